// The compiled binary against the emulator: a job's process that left its process group
// (setsid) is still killed, on a timeout and by the restart after a crash, where the bot can
// give jobs a cgroup of their own (test/jobs/tree.test.ts tests the process-group path).
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cgroupBase } from "../../src/jobs/cgroup.ts";
import { type BotProcess, botEnv, cleanup, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, STRANGER, threadReplies, waitCard } from "./approvals-helpers.ts";

const CH = "CJOBS";
let emu: SlackEmulator | undefined;
const procs: BotProcess[] = [];
const dirs: string[] = [];
const strays: number[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
    await p.exited;
  }
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  await emu?.stop();
  emu = undefined;
  for (const d of dirs.splice(0)) cleanup(d);
});

const running = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
};

/** A job that starts a process outside its process group, writes its pid to esc.pid, then sleeps. */
const ESCAPING_JOB = "setsid sh -c 'echo $$ > esc.pid; exec sleep 300' </dev/null >/dev/null 2>&1 & while [ ! -s esc.pid ]; do sleep 0.01; done; sleep 300";

async function start(extra: Record<string, string> = {}) {
  emu = await startEmulator();
  const e = emu;
  e.addChannel(CH, { botMember: true });
  const dir = tempDir();
  dirs.push(dir);
  const env = botEnv(e, dir, { CLAWDBOT_APPROVERS: APPROVER, CLAWDBOT_EXEC_CWD: dir, ...extra });
  const bot = await spawnBot(["run"], env);
  procs.push(bot);
  await bot.healthPort();
  await e.waitFor(() => e.openConnections() > 0 || undefined, { what: "connected", timeoutMs: 20_000 });
  return { e, dir, env, bot };
}

async function approveEscapingJob(e: SlackEmulator, dir: string) {
  e.slash(STRANGER, CH, `exec ${ESCAPING_JOB}`);
  const { card, id } = await waitCard(e, CH);
  e.click(APPROVER, CH, card.ts, "approval_approve", id);
  const file = join(dir, "esc.pid");
  const escapee = await waitFor(() => (existsSync(file) ? Number(readFileSync(file, "utf8")) || undefined : undefined), "the escapee's pid", 20_000);
  strays.push(escapee);
  return { card, id, escapee };
}

describe.skipIf(process.platform !== "linux" || !cgroupBase())("a job's escaped process (compiled binary, job cgroups)", () => {
  test("timeout: the setsid'd process dies too, and the result says the tree was killed", async () => {
    const { e, dir } = await start({ CLAWDBOT_EXEC_TIMEOUT: "1" });
    const { card, escapee } = await approveEscapingJob(e, dir);
    const reply = await waitFor(() => threadReplies(e, CH, card.ts).find((m) => m.text.includes("timed out")), "the timeout result", 20_000);
    expect(reply.text).toContain("(process tree killed)");
    expect(running(escapee)).toBe(false);
  }, 60_000);

  test("kill -9 of the bot: the restart kills the job's cgroup, the setsid'd process included", async () => {
    const { e, dir, env, bot } = await start();
    const { card, id, escapee } = await approveEscapingJob(e, dir);
    await waitFor(() => pidOf(dir, id), "pid recorded");
    bot.proc.kill("SIGKILL");
    await bot.exited;
    expect(running(escapee)).toBe(true); // the crash left it: the restart must find it

    const second = await spawnBot(["run"], env);
    procs.push(second);
    const report = await waitFor(() => threadReplies(e, CH, card.ts).find((m) => m.text.includes("interrupted")), "the interrupted report", 20_000);
    expect(report.text).toContain("has been stopped");
    expect(running(escapee)).toBe(false);
  }, 60_000);
});

function pidOf(dir: string, id: string): number | null {
  const db = new Database(join(dir, "clawdbot.db"), { readonly: true });
  try {
    return db.query<{ pid: number | null }, [string]>("SELECT pid FROM approvals WHERE id = ?").get(id)?.pid ?? null;
  } finally {
    db.close();
  }
}
