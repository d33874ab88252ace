// The compiled executable under a signal in the middle of work: SIGTERM exits 0 and loses
// nothing; kill -9 then a restart on the same data dir answers every message exactly once.
import { afterEach, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { type BotProcess, botEnv, cleanup, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator | undefined;
let dir: string | undefined;
let proc: BotProcess | undefined;

afterEach(async () => {
  if (proc && proc.proc.exitCode === null) {
    proc.proc.kill(9);
    await proc.exited;
  }
  await emu?.stop();
  if (dir) cleanup(dir);
  emu = dir = proc = undefined;
});

async function run(e: SlackEmulator, dataDir: string): Promise<BotProcess> {
  const p = await spawnBot(["run"], botEnv(e, dataDir, { CLAWDBOT_CONSOLE_LEVEL: "3" }));
  const port = await p.healthPort();
  await waitFor(async () => {
    const r = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
    return r?.status === 200;
  }, `bot healthy: ${p.output()}`);
  return p;
}

function counts(e: SlackEmulator): Map<string, number> {
  const c = new Map<string, number>();
  for (const m of e.botMessages()) c.set(m.text, (c.get(m.text) ?? 0) + 1);
  return c;
}

async function sendStreamThenSignal(e: SlackEmulator, p: BotProcess, signal: number, n: number): Promise<string[]> {
  const texts: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = `msg-${signal}-${i}`;
    e.dm(`U0SIG${String(i % 4).padStart(4, "0")}`, t);
    texts.push(t);
  }
  await waitFor(() => e.botMessages().length >= 5, "some answers before the signal");
  p.proc.kill(signal);
  return texts;
}

async function allAnsweredOnce(e: SlackEmulator, texts: string[]): Promise<void> {
  await waitFor(() => {
    const c = counts(e);
    return texts.every((t) => c.get(`echo: ${t}`));
  }, "every message answered after the restart", 20_000);
  await waitFor(() => e.envelopes.every((x) => x.acked || x.dropped), "deliveries settled");
  const c = counts(e);
  expect(texts.filter((t) => c.get(`echo: ${t}`) !== 1)).toEqual([]);
}

for (const [name, signal] of [["SIGTERM", 15], ["kill -9", 9]] as const) {
  test(`${name} during work, then a restart on the same data dir: every message answered exactly once`, async () => {
    emu = await startEmulator({ ackTimeoutMs: 500 });
    dir = tempDir();
    const e = emu;
    proc = await run(e, dir);
    const texts = await sendStreamThenSignal(e, proc, signal, 60);
    const code = await proc.exited;
    const answeredBefore = texts.filter((t) => counts(e).get(`echo: ${t}`)).length;
    console.log(`${name}: exit ${code}, ${answeredBefore}/${texts.length} answered before the restart`);
    if (signal === 15) {
      expect(code).toBe(0);
      expect(proc.output()).toContain("stopped");
    }
    await waitFor(() => e.openConnections() === 0, "the dead process's socket gone");
    proc = await run(e, dir);
    await allAnsweredOnce(e, texts);
    await waitFor(() => e.openConnections() === 1, "one socket after the restart");
    proc.proc.kill(15);
    expect(await proc.exited).toBe(0);
    await waitFor(() => e.openConnections() === 0, "no socket after stop");
  }, 30_000);
}
