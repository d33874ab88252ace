// kill -9 at arbitrary points (the compiled executable, same data dir): every message is
// answered exactly once, and a post whose response was lost is not posted again.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { botEnv, type BotProcess, cleanup, ensureBinary, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator;
const dirs: string[] = [];

beforeAll(async () => {
  await ensureBinary();
}, 120_000);
// A fresh workspace per test: a new data dir's catch-up would rightly answer the last test's DMs.
beforeEach(async () => {
  // Unacked envelopes come back quickly after a kill.
  emu = await startEmulator({ ackTimeoutMs: 500 });
});
afterEach(async () => {
  await emu.stop();
});
afterAll(() => {
  for (const d of dirs) cleanup(d);
});

/** A small seeded PRNG: the kill points differ from kill to kill but not from run to run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function startBot(env: Record<string, string>): Promise<BotProcess> {
  const bot = await spawnBot(["run"], env);
  await bot.healthPort();
  return bot;
}

async function kill9(bot: BotProcess): Promise<void> {
  bot.proc.kill(9);
  await bot.exited;
  await waitFor(() => emu.openConnections() === 0, "the killed bot's socket closed");
}

const tag = (i: number) => `crashmsg-${String(i).padStart(3, "0")}-end`;
const answers = (t: string) => emu.botMessages().filter((m) => m.text.includes(t)).length;

describe("crash safety", () => {
  test("200 messages, kill -9 at random points, 10 restarts: every message answered exactly once", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const env = botEnv(emu, dir);
    const rand = prng(42);
    const total = 200;
    const rounds = 10;
    let sent = 0;
    for (let round = 0; round < rounds; round++) {
      const bot = await startBot(env);
      const batch = total / rounds;
      for (let j = 0; j < batch; j++, sent++) emu.dm(`U${sent % 7}`, `please answer ${tag(sent)}`);
      // Kill once a random part of this batch is answered: mid-agent, mid-outbox, mid-ack.
      const want = Math.floor(rand() * batch);
      const base = sent - batch;
      await waitFor(() => {
        let n = 0;
        for (let i = base; i < sent; i++) if (answers(tag(i)) > 0) n++;
        return n >= want;
      }, `round ${round}: ${want} answers`);
      await Bun.sleep(Math.floor(rand() * 20)); // the kill point itself, not a wait for a condition
      await kill9(bot);
    }
    const bot = await startBot(env);
    try {
      await waitFor(
        () => {
          for (let i = 0; i < total; i++) if (answers(tag(i)) === 0) return false;
          return true;
        },
        "every message answered",
        20_000,
      );
      emu.dm("UMARK", "final marker crash");
      await waitFor(() => answers("final marker crash") === 1, "marker reply");
      const counts = Array.from({ length: total }, (_, i) => answers(tag(i)));
      expect(counts.filter((c) => c !== 1)).toEqual([]);
    } finally {
      bot.proc.kill("SIGTERM");
      await bot.exited;
    }
  }, 60_000);

  test("a post whose response is lost (posted, then the process dies) is not posted again", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const env = botEnv(emu, dir);
    let bot = await startBot(env);
    emu.fault("chat.postMessage", { executeThenHang: true, times: 1 });
    emu.dm("UALICE", "lost response please");
    // Slack has the message; the bot never heard back.
    await waitFor(() => answers("lost response please") === 1, "the posted reply");
    await kill9(bot);
    emu.clearFaults();
    bot = await startBot(env);
    try {
      emu.dm("UMARK", "marker after lost response");
      await waitFor(() => answers("marker after lost response") === 1, "marker reply");
      // The restarted bot found the reply by its outbox id and marked it sent instead of posting again.
      await waitFor(async () => {
        const dump = await spawnBot(["state", "dump", "--json"], env);
        if ((await dump.exited) !== 0) return false;
        const out = JSON.parse(dump.output()) as { outbox: { pending: number; failed: number; sent: number } };
        return out.outbox.pending === 0 && out.outbox.failed === 0 && out.outbox.sent === 2;
      }, "outbox all sent");
      expect(answers("lost response please")).toBe(1);
    } finally {
      bot.proc.kill("SIGTERM");
      await bot.exited;
    }
  }, 30_000);
});
