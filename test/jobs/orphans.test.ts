// stopOrphanJob: a job process left by a crashed clawdbot is killed with its whole group,
// but a pid that now names something else is left alone.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cgroupBase, cgroupTree, jobCgroup } from "../../src/jobs/cgroup.ts";
import { stopOrphanJob } from "../../src/jobs/orphans.ts";
import { groupRunning, readStat } from "../../src/jobs/process-group.ts";
import { waitFor } from "../helpers/bot.ts";

const spawned: number[] = [];
afterEach(() => {
  for (const pid of spawned.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
});

const dir = mkdtempSync(join(tmpdir(), "clawdbot-orphans-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = process.platform === "linux" ? cgroupBase() : null;

/** A detached shell (its own process group), as runProcess starts jobs; in its cgroup if `cgroup`. */
function job(script: string, cgroup = false) {
  const argv = ["/bin/sh", "-c", script];
  const p = Bun.spawn(cgroup ? cgroupTree(base as string).wrap(argv) : argv, { detached: true, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  spawned.push(p.pid);
  return p;
}

const running = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
};

describe.skipIf(process.platform === "win32")("stopOrphanJob", () => {
  test("a running job and its children are killed", async () => {
    const p = job("sleep 30 & sleep 30");
    await waitFor(() => groupRunning(p.pid) || undefined, "job running");
    expect(stopOrphanJob(p.pid, Date.now())).toBe("stopped");
    await p.exited;
    await waitFor(() => !groupRunning(p.pid) || undefined, "group gone");
  });

  test("leftovers of a job whose shell already ended are killed", async () => {
    const p = job("sleep 30 & exit 0");
    await p.exited; // the shell is gone (and reaped); its background sleep lives on in the group
    await waitFor(() => groupRunning(p.pid) || undefined, "leftover running");
    expect(stopOrphanJob(p.pid, Date.now())).toBe("stopped");
    await waitFor(() => !groupRunning(p.pid) || undefined, "leftover gone");
  });

  test("a finished job is gone", async () => {
    const p = job("exit 0");
    await p.exited;
    expect(stopOrphanJob(p.pid, Date.now())).toBe("gone");
  });

  test.skipIf(process.platform !== "linux")("a process that started long after the job is not ours (pid reuse)", async () => {
    const p = job("sleep 30");
    await waitFor(() => groupRunning(p.pid) || undefined, "running");
    expect(stopOrphanJob(p.pid, Date.now() - 3_600_000)).toBe("not-ours");
    expect(groupRunning(p.pid)).toBe(true);
  });

  test.skipIf(process.platform !== "linux")("a process that is no group leader is not ours", async () => {
    // This test runner's own pid leads no group of its own job: never killed.
    const own = readStat(process.pid);
    if (own && own.pgrp !== process.pid) expect(stopOrphanJob(process.pid, Date.now())).toBe("not-ours");
  });
});

describe.skipIf(!base)("stopOrphanJob with job cgroups (Linux, cgroup v2 writable)", () => {
  test("a setsid'd leftover of a job whose shell ended is found by its cgroup and killed", async () => {
    const pidFile = join(dir, "escapee.pid");
    // The escapee leaves the process group: the group check alone would call the job gone.
    const p = job(`setsid sh -c 'echo $$ > "${pidFile}"; exec sleep 300' </dev/null >/dev/null 2>&1 & while [ ! -s "${pidFile}" ]; do sleep 0.01; done`, true);
    await p.exited;
    const escapee = Number(readFileSync(pidFile, "utf8"));
    spawned.push(escapee);
    expect(running(escapee)).toBe(true);
    expect(stopOrphanJob(p.pid, Date.now())).toBe("stopped");
    expect(running(escapee)).toBe(false);
    expect(existsSync(jobCgroup(base as string, p.pid))).toBe(false);
  });

  test("a job cgroup with nothing left is gone, and removed", async () => {
    const p = job("exit 0", true);
    await p.exited;
    expect(existsSync(jobCgroup(base as string, p.pid))).toBe(true);
    expect(stopOrphanJob(p.pid, Date.now())).toBe("gone");
    expect(existsSync(jobCgroup(base as string, p.pid))).toBe(false);
  });
});
