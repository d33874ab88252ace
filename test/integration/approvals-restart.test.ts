// Cards survive restarts; a job running when the process is killed is `interrupted`,
// reported and never re-run. The kill -9 case uses the compiled executable.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { type BotProcess, botEnv, cleanup, spawnBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, STRANGER, currentCard, hasButtons, lines, threadReplies, waitCard } from "./approvals-helpers.ts";

const CH = "CJOBS";
let emu: SlackEmulator | undefined;
const dirs: string[] = [];
const procs: BotProcess[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
    await p.exited;
  }
  await emu?.stop();
  emu = undefined;
  for (const d of dirs.splice(0)) cleanup(d);
});

async function emulator() {
  emu = await startEmulator();
  emu.addChannel(CH, { botMember: true });
  return emu;
}

function dataDir() {
  const d = tempDir();
  dirs.push(d);
  return d;
}

async function dumpJson(dir: string) {
  const p = await spawnBot(["state", "dump", "--json", "--db", join(dir, "clawdbot.db")], {});
  expect(await p.exited).toBe(0);
  return JSON.parse(p.output()) as {
    approvals: Record<string, unknown>[];
    usage: unknown[];
  };
}

describe.skipIf(process.platform === "win32")("approvals across restarts", () => {
  test("card posted, bot restarted with the same data dir, approve: the job runs", async () => {
    const e = await emulator();
    const dir = dataDir();
    const env = { CLAWDBOT_APPROVERS: APPROVER };
    let bot = await startBot(e, env, dir);
    e.slash(STRANGER, CH, "exec echo run >> runs.txt");
    const { card, id } = await waitCard(e, CH);
    await waitFor(async () => (await bot.rt.store.approvals.cards(id))[0]?.ts, "card ts stored");
    await bot.stop();

    bot = await startBot(e, env, dir);
    try {
      await waitFor(async () => (await bot.rt.snapshot()).connected, "reconnected");
      e.click(APPROVER, CH, card.ts, "approval_approve", id);
      await waitFor(async () => (await bot.rt.store.approvals.get(id))?.status === "succeeded", "ran after restart");
      await waitFor(() => threadReplies(e, CH, card.ts).find((m) => m.text.includes("exit 0")), "result in thread");
      await waitFor(() => !hasButtons(currentCard(e, CH, card.ts)) || undefined, "card updated");
      expect(lines(join(dir, "runs.txt"))).toBe(1);
    } finally {
      await bot.stop();
    }
  });

  test("kill -9 while a job runs: interrupted after restart, reported, card updated, not re-run; state dump lists it", async () => {
    const e = await emulator();
    const dir = dataDir();
    const env = botEnv(e, dir, { CLAWDBOT_APPROVERS: APPROVER });
    const first = await spawnBot(["run"], env);
    procs.push(first);
    await first.healthPort();
    await e.waitFor(() => e.openConnections() > 0 || undefined, { what: "connected", timeoutMs: 20_000 });

    // Writes a marker, then runs long enough to be killed mid-way (short, so nothing lingers long).
    e.slash(STRANGER, CH, "exec echo started >> marker.txt; sleep 4");
    const { card, id } = await waitCard(e, CH);
    e.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(() => lines(join(dir, "marker.txt")) === 1 || undefined, "job started");
    await waitFor(async () => (await dumpJson(dir)).approvals.find((a) => a.id === id)?.status === "running", "running in the store");
    first.proc.kill("SIGKILL");
    await first.exited;

    const second = await spawnBot(["run"], env);
    procs.push(second);
    await second.healthPort();
    const report = await waitFor(
      () => threadReplies(e, CH, card.ts).find((m) => m.text.includes("interrupted")),
      "interrupted report in the thread",
      20_000,
    );
    expect(report.text).toContain(id);
    await waitFor(() => JSON.stringify(currentCard(e, CH, card.ts)?.blocks).includes("Interrupted"), "card says interrupted");
    expect(hasButtons(currentCard(e, CH, card.ts))).toBe(false);

    const dump = await dumpJson(dir);
    const a = dump.approvals.find((x) => x.id === id);
    expect(a).toMatchObject({ id, kind: "exec", status: "interrupted", requested_by: STRANGER, channel: CH, decided_by: APPROVER });
    expect(a?.text).toBe("echo started >> marker.txt; sleep 4");
    for (const k of ["created_at", "decided_at"]) expect(a?.[k]).toBeTruthy();
    expect(Array.isArray(dump.usage)).toBe(true);

    // Not re-run: one more restart, and the marker still has one line.
    second.proc.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    const third = await spawnBot(["run"], env);
    procs.push(third);
    await third.healthPort();
    await e.waitFor(() => e.openConnections() > 0 || undefined, { what: "connected again", timeoutMs: 20_000 });
    expect(lines(join(dir, "marker.txt"))).toBe(1);
    expect(threadReplies(e, CH, card.ts).filter((m) => m.text.includes("interrupted")).length).toBe(1);
  }, 60_000);
});
