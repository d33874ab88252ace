// kill -9 of the bot while a job runs: the job's detached process group would run on
// unnoticed. The next start stops it, says so in the thread, and marks the job interrupted.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { groupRunning } from "../../src/jobs/process-group.ts";
import { type BotProcess, botEnv, cleanup, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, STRANGER, currentCard, lines, threadReplies, waitCard } from "./approvals-helpers.ts";

const CH = "CJOBS";
let emu: SlackEmulator | undefined;
const dirs: string[] = [];
const procs: BotProcess[] = [];
const jobGroups: number[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
    await p.exited;
  }
  // Whatever happened, no test job outlives the test.
  for (const g of jobGroups.splice(0)) {
    try {
      process.kill(-g, "SIGKILL");
    } catch {}
  }
  await emu?.stop();
  emu = undefined;
  for (const d of dirs.splice(0)) cleanup(d);
});

/** The approval's row as the bot stored it (read-only, beside the running bot). */
function approvalRow(dir: string, id: string): { status: string; pid: number | null } | null {
  const db = new Database(join(dir, "clawdbot.db"), { readonly: true });
  try {
    return db.query<{ status: string; pid: number | null }, [string]>("SELECT status, pid FROM approvals WHERE id = ?").get(id);
  } finally {
    db.close();
  }
}

describe.skipIf(process.platform === "win32")("a job that outlives a crash", () => {
  test("kill -9 during `sleep 30`: the restart kills the job's process group, reports it, marks it interrupted", async () => {
    emu = await startEmulator();
    const e = emu;
    e.addChannel(CH, { botMember: true });
    const dir = tempDir();
    dirs.push(dir);
    const env = botEnv(e, dir, { CLAWDBOT_APPROVERS: APPROVER });
    const first = await spawnBot(["run"], env);
    procs.push(first);
    await first.healthPort();
    await e.waitFor(() => e.openConnections() > 0 || undefined, { what: "connected", timeoutMs: 20_000 });

    e.slash(STRANGER, CH, "exec echo started >> marker.txt; sleep 30");
    const { card, id } = await waitCard(e, CH);
    e.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(() => lines(join(dir, "marker.txt")) === 1 || undefined, "job started");
    const pid = await waitFor(() => approvalRow(dir, id)?.pid, "pid recorded");
    jobGroups.push(pid);
    expect(approvalRow(dir, id)?.status).toBe("running");

    first.proc.kill("SIGKILL");
    await first.exited;
    // The crash itself leaves the job running: that is what the restart must clean up.
    expect(groupRunning(pid)).toBe(true);

    const second = await spawnBot(["run"], env);
    procs.push(second);
    await second.healthPort();
    const report = await waitFor(
      () => threadReplies(e, CH, card.ts).find((m) => m.text.includes("interrupted")),
      "interrupted report in the thread",
      20_000,
    );
    expect(report.text).toContain(id);
    expect(report.text).toContain(`pid ${pid}`);
    expect(report.text).toContain("has been stopped");
    await waitFor(() => !groupRunning(pid) || undefined, "job's process group gone", 5000);
    expect(approvalRow(dir, id)?.status).toBe("interrupted");
    await waitFor(() => JSON.stringify(currentCard(e, CH, card.ts)?.blocks).includes("Interrupted"), "card says interrupted");
    expect(lines(join(dir, "marker.txt"))).toBe(1); // not re-run
  }, 60_000);
});
