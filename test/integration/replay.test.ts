// `clawdbot replay` (compiled): answers events never answered and sends what the outbox
// still holds; beside a running bot, each item goes out once.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { queueReply } from "../../src/core/replies.ts";
import { openStore, storeLocation } from "../../src/store/index.ts";
import { botEnv, type BotProcess, cleanup, ensureBinary, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  await ensureBinary();
}, 120_000);
beforeEach(async () => {
  emu = await startEmulator();
  emu.addChannel("CREPLAY", { name: "replay", botMember: true });
  dir = tempDir();
  env = botEnv(emu, dir);
});
afterEach(async () => {
  await emu.stop();
  cleanup(dir);
});
afterAll(() => {});

/** A store left by a bot that died: events recorded and never answered, replies never sent. */
async function seed(events: number, replies: number): Promise<void> {
  const s = await openStore(storeLocation({ dataDir: dir }));
  const now = Date.now();
  for (let i = 0; i < events; i++) {
    const ts = `1700000000.${String(i).padStart(6, "0")}`;
    await s.events.record({ key: `msg:CREPLAY:${ts}`, kind: "mention", channel: "CREPLAY", ts, threadTs: ts, user: "UALICE", text: `<@UBOT> unanswered-${i}-x`, payload: "{}" }, now);
  }
  await s.tx(async (t) => {
    for (let i = 0; i < replies; i++) await queueReply(t, { channel: "CREPLAY", text: `unsent-${i}-x` }, now);
  });
  await s.close();
}

async function replay(...args: string[]): Promise<{ code: number; out: string; proc: BotProcess }> {
  const proc = await spawnBot(["replay", ...args], env);
  const code = await proc.exited;
  return { code, out: proc.output(), proc };
}

const count = (t: string) => emu.botMessages().filter((m) => m.text.includes(t)).length;

describe("clawdbot replay", () => {
  test("nothing to do: exit 0", async () => {
    seed(0, 0);
    const r = await replay();
    expect(r.code).toBe(0);
    expect(r.out).toContain("nothing to deliver");
  });

  test("a configuration error: exit 2 with one line", async () => {
    const p = await spawnBot(["replay"], { ...env, SLACK_BOT_TOKEN: "" });
    expect(await p.exited).toBe(2);
    expect(p.output().trim().split("\n")).toHaveLength(1);
    expect(p.output()).toContain("SLACK_BOT_TOKEN");
  });

  test("--dry-run lists and sends nothing; --id answers one event; then the rest", async () => {
    await seed(2, 1);
    const dry = await replay("--dry-run", "--json");
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.out) as { items: { type: string; id: string }[] };
    expect(plan.items.map((i) => i.type).sort()).toEqual(["event", "event", "outbox"]);
    expect(emu.botMessages()).toHaveLength(0);

    const one = await replay("--id", "msg:CREPLAY:1700000000.000001", "--json");
    expect(one.code).toBe(0);
    expect(JSON.parse(one.out)).toMatchObject({ answered: 1, delivered: 1, not_delivered: [] });
    expect(count("unanswered-1-x")).toBe(1);
    expect(count("unanswered-0-x")).toBe(0);
    // Answered in the mention's thread, as the bot would.
    expect(emu.botMessages()[0]?.thread_ts).toBe("1700000000.000001");

    const rest = await replay();
    expect(rest.code).toBe(0);
    expect(count("unanswered-0-x")).toBe(1);
    expect(count("unsent-0-x")).toBe(1);
    expect(count("unanswered-1-x")).toBe(1);
  });

  test("revoked tokens: replay gives up at once with exit 1, the reply kept for later", async () => {
    await seed(0, 1);
    emu.revokeTokens();
    const t0 = Date.now();
    const r = await replay("--json");
    expect(r.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(10_000);
    emu.restoreTokens();
    expect((await replay()).code).toBe(0);
    expect(count("unsent-0-x")).toBe(1);
  });

  test("replay while the bot runs: every item delivered exactly once", async () => {
    const n = 30;
    await seed(n, n);
    // Both start on the same backlog: the bot recovers it while replay delivers it.
    const botP = spawnBot(["run"], env);
    const replays = [replay("--json"), replay("--json")];
    const bot = await botP;
    try {
      const results = await Promise.all(replays);
      for (const r of results) expect(r.code).toBe(0);
      await waitFor(() => {
        for (let i = 0; i < n; i++) if (count(`unanswered-${i}-x`) === 0 || count(`unsent-${i}-x`) === 0) return false;
        return true;
      }, "everything delivered");
      emu.dm("UMARK", "marker after replay");
      await waitFor(() => count("marker after replay") === 1, "marker reply");
      for (let i = 0; i < n; i++) {
        expect(count(`unanswered-${i}-x`)).toBe(1);
        expect(count(`unsent-${i}-x`)).toBe(1);
      }
    } finally {
      bot.proc.kill("SIGTERM");
      await bot.exited;
    }
  }, 30_000);
});
