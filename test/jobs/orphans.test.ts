// stopOrphanJob: a job process left by a crashed clawdbot is killed with its whole group,
// but a pid that now names something else is left alone.
import { afterEach, describe, expect, test } from "bun:test";
import { groupRunning, readStat, stopOrphanJob } from "../../src/jobs/orphans.ts";
import { waitFor } from "../helpers/bot.ts";

const spawned: number[] = [];
afterEach(() => {
  for (const pid of spawned.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
});

/** A detached shell (its own process group), as runProcess starts jobs. */
function job(script: string) {
  const p = Bun.spawn(["/bin/sh", "-c", script], { detached: true, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  spawned.push(p.pid);
  return p;
}

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
