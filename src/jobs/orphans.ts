// A job left running by a clawdbot that died (kill -9, power cut of the parent only): the
// job was spawned detached, so nothing killed it with us. At the next start we stop it, but
// only if its pid still plausibly names our job: pids are reused.
//
// How sure we are, by platform:
// - Linux: /proc/<pid>/stat must show a process group leader (pgrp = pid) that started
//   within a minute of when the job started. If the leader is gone but its process group
//   still has members, they are the job's leftovers (the kernel does not reuse a pid while
//   a group carries it as its id). Safe against reuse short of a session leader that
//   happens to get the same pid in the same minute.
// - other POSIX (macOS, BSD): no /proc; a live process group with that id is taken as ours.
//   A process that reused the pid and made itself a group leader would be killed too.
// - win32: a live pid is taken as ours (taskkill /T). Windows reuses pids readily, so a
//   job that ended while clawdbot was down may have its pid reused; the window is the downtime.
//   Usually nothing is left to stop: the job is not detached there, and Bun (libuv) puts its
//   children in a kill-on-close job object, so Windows ends the job with clawdbot (seen under
//   Wine 8: scripts/wine-smoke.ts). This is the fallback for when that did not happen.
import { readFileSync, readdirSync } from "node:fs";

export type OrphanOutcome =
  /** It was still running and has been killed. */
  | "stopped"
  /** Nothing of it runs any more. */
  | "gone"
  /** Something runs under that pid but it is not our job (pid reused); left alone. */
  | "not-ours";

/** Clock ticks per second in /proc (USER_HZ): 100 on every mainstream Linux architecture. */
const CLK_TCK = 100;
/** How far a process start may be from the job's recorded start and still be the job. */
const START_SLACK_BEFORE_MS = 30_000;
const START_SLACK_AFTER_MS = 60_000;
const TASKKILL_TIMEOUT_MS = 10_000;

/** Stops the job's process tree if it still runs and is ours. Never throws. */
export function stopOrphanJob(pid: number, startedAt: number | null): OrphanOutcome {
  if (!Number.isInteger(pid) || pid <= 1) return "gone";
  if (process.platform === "win32") return stopWindows(pid);
  if (process.platform === "linux") return stopLinux(pid, startedAt);
  if (!groupAlive(pid)) return "gone";
  return killGroup(pid);
}

function stopLinux(pid: number, startedAt: number | null): OrphanOutcome {
  const leader = readStat(pid);
  if (leader === null) {
    // Leader gone: live members of its group can only be what the job started.
    return groupAlive(pid) ? killGroup(pid) : "gone";
  }
  if (leader.pgrp !== pid) return "not-ours";
  if (startedAt !== null) {
    const started = processStartMs(leader.startTicks);
    if (started !== null && (started < startedAt - START_SLACK_BEFORE_MS || started > startedAt + START_SLACK_AFTER_MS)) return "not-ours";
  }
  // A zombie leader (no init reaping it) still names the group: its children may live on.
  if (leader.state === "Z" && !groupHasLiving(pid)) return "gone";
  return killGroup(pid);
}

interface Stat {
  state: string;
  pgrp: number;
  startTicks: number;
}

/** /proc/<pid>/stat, parsed after the command name (which may hold spaces and parentheses). */
export function readStat(pid: number): Stat | null {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  const f = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
  // Fields from 3 (state) on: state=3, pgrp=5, starttime=22.
  return { state: f[0] ?? "", pgrp: Number(f[2]), startTicks: Number(f[19]) };
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

/** Any non-zombie process in group `pgid` (Linux). */
function groupHasLiving(pgid: number): boolean {
  try {
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const s = readStat(Number(name));
      if (s && s.pgrp === pgid && s.state !== "Z") return true;
    }
  } catch {}
  return false;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours to signal; killing would fail too.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Some process of group `pgid` really runs (on Linux, zombies waiting for a reaper don't count). */
export function groupRunning(pgid: number): boolean {
  if (!groupAlive(pgid)) return false;
  return process.platform !== "linux" || groupHasLiving(pgid);
}

function killGroup(pgid: number): OrphanOutcome {
  try {
    process.kill(-pgid, "SIGKILL");
    return "stopped";
  } catch {
    return "gone";
  }
}

function stopWindows(pid: number): OrphanOutcome {
  try {
    process.kill(pid, 0);
  } catch {
    return "gone";
  }
  try {
    const systemRoot = process.env.SystemRoot || process.env.windir || "C:\\Windows";
    Bun.spawnSync([`${systemRoot}\\System32\\taskkill.exe`, "/pid", String(pid), "/T", "/F"], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
      windowsHide: true,
      timeout: TASKKILL_TIMEOUT_MS,
    });
  } catch {}
  return "stopped";
}
