// A job left running by a clawdbot that died (kill -9, power cut of the parent only): the
// job was spawned detached, so nothing killed it with us. At the next start we stop it, but
// only if its pid still plausibly names our job: pids are reused.
//
// How sure we are, by platform:
// - Linux with job cgroups (cgroup.ts): the cgroup named after the stored pid holds only what
//   the job started, setsid'd children included; it is killed and checked empty. Reuse cannot
//   fool it: another process with that pid is not in that cgroup.
// - Linux without: /proc/<pid>/stat must show a process group leader (pgrp = pid) that started
//   within a minute of when the job started. If the leader is gone but its process group
//   still has members, they are the job's leftovers (the kernel does not reuse a pid while
//   a group carries it as its id). Safe against reuse short of a session leader that
//   happens to get the same pid in the same minute.
// - other POSIX (macOS, BSD): no /proc; a live process group with that id is taken as ours.
//   A process that reused the pid and made itself a group leader would be killed too.
// - win32: the job's Job Object died with the bot (KILL_ON_JOB_CLOSE), so usually nothing is
//   left. If something runs under the pid, its creation time (GetProcessTimes) must be within a
//   minute of the job's start, as on Linux; then taskkill /T, whose exit status says whether it did.
import { readFileSync } from "node:fs";
import type { OrphanOutcome } from "../core/jobs.ts";
import { stopOrphanCgroup } from "./cgroup.ts";
import { ERROR_INVALID_PARAMETER, filetimeToMs, PROCESS_QUERY_LIMITED_INFORMATION, STILL_ACTIVE } from "./job-object.ts";
import { type Kernel32, kernel32 } from "./kernel32.ts";
import { groupAlive, groupMembers, groupRunning, killGroup, readStat } from "./process-group.ts";
import { TASKKILL_NOT_FOUND, taskkillSync } from "./taskkill.ts";
import { waitUntilSync } from "./wait.ts";

/** Clock ticks per second in /proc (USER_HZ): 100 on every mainstream Linux architecture. */
const CLK_TCK = 100;
/** How far a process start may be from the job's recorded start and still be the job. */
const START_SLACK_BEFORE_MS = 30_000;
const START_SLACK_AFTER_MS = 60_000;
/** After SIGKILL, how long the group may take to be gone. */
const VERIFY_MS = 2000;

/** Stops the job's process tree if it still runs and is ours. Never throws. */
export function stopOrphanJob(pid: number, startedAt: number | null): OrphanOutcome {
  if (!Number.isInteger(pid) || pid <= 1) return "gone";
  if (process.platform === "win32") {
    const k = kernel32();
    return k ? stopWindowsOrphan(pid, startedAt, k) : "not-ours";
  }
  if (process.platform === "linux") return stopOrphanCgroup(pid) ?? stopLinux(pid, startedAt);
  if (!groupAlive(pid)) return "gone";
  return killAndCheck(pid);
}

/** A process that started this far from the job's start is not the job. */
export function startsLikeJob(processStartMs: number, jobStartedAt: number): boolean {
  return processStartMs >= jobStartedAt - START_SLACK_BEFORE_MS && processStartMs <= jobStartedAt + START_SLACK_AFTER_MS;
}

function stopLinux(pid: number, startedAt: number | null): OrphanOutcome {
  const leader = readStat(pid);
  if (leader === null) {
    // Leader gone: live members of its group can only be what the job started.
    return groupRunning(pid) ? killAndCheck(pid) : "gone";
  }
  if (leader.pgrp !== pid) return "not-ours";
  if (startedAt !== null) {
    const started = processStartMs(leader.startTicks);
    if (started !== null && !startsLikeJob(started, startedAt)) return "not-ours";
  }
  // A zombie leader (no init reaping it) still names the group: its children may live on.
  if (leader.state === "Z" && groupMembers(pid).length === 0) return "gone";
  return killAndCheck(pid);
}

function processStartMs(ticks: number): number | null {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1];
    if (!btime || !Number.isFinite(ticks)) return null;
    return (Number(btime) + ticks / CLK_TCK) * 1000;
  } catch {
    return null;
  }
}

function killAndCheck(pgid: number): OrphanOutcome {
  if (!killGroup(pgid)) return "gone";
  return waitUntilSync(() => !groupRunning(pgid), VERIFY_MS) ? "stopped" : "kill-failed";
}

/**
 * Windows: the process under `pid`, if any, must have been created when the job started;
 * then taskkill /T /F ends it. `taskkill` is injectable for tests (it returns the exit status).
 */
export function stopWindowsOrphan(pid: number, startedAt: number | null, k: Kernel32, taskkill: (pid: number) => number | null = taskkillSync): OrphanOutcome {
  const seen = windowsProcess(pid, k);
  if (seen === "none") return "gone";
  if (seen === "denied") return "not-ours";
  if (!seen.running) return "gone";
  // Without the creation time we cannot tell it from a process that reused the pid.
  if (seen.created === null || (startedAt !== null && !startsLikeJob(seen.created, startedAt))) return "not-ours";
  const status = taskkill(pid);
  if (status === 0) return "stopped";
  if (status === TASKKILL_NOT_FOUND) return "gone";
  // taskkill failed (Wine 8's rejects /T, say): the root at least may have died; look again.
  const after = windowsProcess(pid, k);
  return after === "none" || (typeof after === "object" && (!after.running || after.created !== seen.created)) ? "stopped" : "kill-failed";
}

/** What runs under `pid`: nothing, something we may not open, or a process and its creation time. */
function windowsProcess(pid: number, k: Kernel32): "none" | "denied" | { running: boolean; created: number | null } {
  const h = k.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, pid);
  // No such pid. Anything else (access denied) is not a process a job of ours could be.
  if (!h) return k.GetLastError() === ERROR_INVALID_PARAMETER ? "none" : "denied";
  try {
    const times = [0, 1, 2, 3].map(() => new Uint8Array(8));
    const created = k.GetProcessTimes(h, times[0]!, times[1]!, times[2]!, times[3]!) ? filetimeToMs(times[0]!) : null;
    const code = new Uint8Array(4);
    const running = !k.GetExitCodeProcess(h, code) || new DataView(code.buffer).getUint32(0, true) === STILL_ACTIVE;
    return { running, created };
  } finally {
    k.CloseHandle(h);
  }
}
