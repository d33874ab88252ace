// A job's process tree on Linux, both ways it can be held: its own cgroup (where this machine
// lets the bot make one) and its process group. What the result says must be what was checked.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cgroupBase, cgroupTree, jobCgroup } from "../../src/jobs/cgroup.ts";
import { formatSeconds } from "../../src/core/text.ts";
import { jobSummary, runExecJob } from "../../src/jobs/exec.ts";
import { groupTree } from "../../src/jobs/process-group.ts";
import { runProcess } from "../../src/jobs/run-process.ts";
import { shellArgv } from "../../src/jobs/shell.ts";
import { describeTree, type TreeFactory } from "../../src/jobs/tree.ts";
import { waitFor } from "../helpers/bot.ts";

const dir = mkdtempSync(join(tmpdir(), "clawdbot-tree-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = process.platform === "linux" ? cgroupBase() : null;
const sh = (command: string) => shellArgv(command, "linux");

/** Alive and not a zombie (an orphan may sit unreaped where PID 1 does not reap). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

const strays: number[] = [];
afterEach(() => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
});

/** The pid a job wrote to `name` (the process it started in the background). */
async function pidIn(name: string): Promise<number> {
  const file = join(dir, name);
  const pid = await waitFor(() => (existsSync(file) ? Number(readFileSync(file, "utf8").trim()) || undefined : undefined), `pid in ${name}`);
  strays.push(pid);
  return pid;
}

/** A process that leaves the job's process group (setsid), writes its pid, and holds none of the job's pipes. */
const escapee = (name: string) => `setsid sh -c 'echo $$ > "${join(dir, name)}"; exec sleep 300' </dev/null >/dev/null 2>&1`;
/** Shell code that waits until the escapee wrote its pid. */
const until = (name: string) => `while [ ! -s "${join(dir, name)}" ]; do sleep 0.01; done`;

describe.skipIf(!base)("in a cgroup of its own (Linux, cgroup v2 writable)", () => {
  const tree: TreeFactory = () => cgroupTree(base as string);

  test("timeout: `setsid sleep 300 &` dies with the job, and the result says the tree was killed", async () => {
    const r = await runExecJob({ command: `${escapee("cg-timeout")} & ${until("cg-timeout")}; sleep 300`, cwd: dir, timeoutMs: 1000, tree });
    const pid = await pidIn("cg-timeout");
    expect(r.timedOut).toBe(true);
    expect(r.tree).toMatchObject({ means: "cgroup", verified: true });
    expect(jobSummary(r)).toMatch(/^timed out after \d\.\d s \(process tree killed\)$/);
    expect(running(pid)).toBe(false);
  });

  test("a job that exited: what it left running (setsid'd too) is killed, and said", async () => {
    const r = await runExecJob({ command: `${escapee("cg-exit")} & sleep 300 & ${until("cg-exit")}; echo done`, cwd: dir, timeoutMs: 20_000, tree });
    const pid = await pidIn("cg-exit");
    expect(r.exitCode).toBe(0);
    expect(r.output).toBe("done\n");
    expect(r.tree).toEqual({ means: "cgroup", killed: 2, verified: true });
    expect(jobSummary(r)).toMatch(/^exit 0 in \d\.\d s \(2 background processes it left killed\)$/);
    expect(running(pid)).toBe(false);
  });

  test("leftovers holding the job's pipes are killed, so they do not hold the result", async () => {
    const r = await runProcess({ argv: sh("sleep 300 & echo started"), timeoutMs: 20_000, drainGraceMs: 30_000, tree });
    expect(r.stdout).toBe("started\n");
    expect(r.durationMs).toBeLessThan(10_000);
  });

  test("the job's cgroup is removed afterwards; a job that left nothing reports nothing", async () => {
    let pid = 0;
    const r = await runProcess({ argv: sh("echo $$"), timeoutMs: 10_000, tree, onSpawn: (p) => (pid = p) });
    expect(r.output.trim()).toBe(String(pid)); // the wrapper exec'd the job: same pid
    expect(r.tree).toBeUndefined();
    expect(existsSync(jobCgroup(base as string, pid))).toBe(false);
  });

  test("the job runs inside its cgroup before it starts anything", async () => {
    const r = await runProcess({ argv: sh("cat /proc/self/cgroup; echo $$"), timeoutMs: 10_000, tree });
    const pid = r.output.trim().split("\n").at(-1);
    expect(r.output).toMatch(new RegExp(`^0::.*/clawdbot-job-${pid}$`, "m"));
  });
});

describe.skipIf(process.platform !== "linux")("in its process group (no cgroup)", () => {
  const tree: TreeFactory = () => groupTree();

  test("timeout: the result says only that the group was killed, because a setsid'd child survives", async () => {
    const r = await runExecJob({ command: `${escapee("pg-timeout")} & ${until("pg-timeout")}; sleep 300`, cwd: dir, timeoutMs: 1000, tree });
    const pid = await pidIn("pg-timeout");
    expect(r.timedOut).toBe(true);
    expect(r.tree).toMatchObject({ means: "process-group", verified: true });
    expect(jobSummary(r)).toBe(`timed out after ${formatSeconds(r.durationMs)} (its process group killed; a process that left the group may still run)`);
    expect(running(pid)).toBe(true); // the caveat is true: this is why it is said
  });

  test("a job that exited: the background processes left in its group are killed, and said", async () => {
    const r = await runExecJob({ command: `sleep 300 & echo $! > "${join(dir, "pg-exit")}"; echo done`, cwd: dir, timeoutMs: 20_000, tree });
    const pid = await pidIn("pg-exit");
    expect(r.exitCode).toBe(0);
    expect(r.tree).toEqual({ means: "process-group", killed: 1, verified: true });
    expect(jobSummary(r)).toContain("(1 background process it left in its process group killed; a process that left the group may still run)");
    await waitFor(() => !running(pid) || undefined, "the background sleep gone");
  });
});

describe("describeTree says only what was verified", () => {
  test("each means, killed or not verified", () => {
    expect(describeTree({ means: "job-object", verified: true }, "kill")).toBe("process tree killed");
    expect(describeTree({ means: "cgroup", verified: false }, "kill")).toContain("still ran");
    expect(describeTree({ means: "job-object", verified: true, killed: 1 }, "leftovers")).toBe("1 background process it left killed");
    expect(describeTree({ means: "process-group", verified: false }, "kill")).toContain("signalled");
    expect(describeTree({ means: "taskkill", verified: true }, "kill")).toContain("may still run");
    expect(describeTree({ means: "taskkill", verified: false, problem: "exit 1" }, "kill")).toBe(
      "taskkill failed (exit 1); the main process was killed, its children may still run",
    );
  });
});
