// The process group as a job's tree (POSIX): the job is spawned detached, so setsid() makes it
// the leader of a new group and -pid reaches everything it starts, except a process that makes
// itself a new session or group (setsid, a daemon): that one leaves the group and cannot be
// found again. The reports say so.
import { readFileSync, readdirSync } from "node:fs";
import type { ProcessTree, TreeProcess, TreeReport } from "./tree.ts";
import { waitUntil } from "./wait.ts";

/** After SIGKILL, how long the group may take to be gone before we say it was not. */
const VERIFY_MS = 2000;

export interface Stat {
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

/** The non-zombie processes of group `pgid` (Linux; empty where there is no /proc). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  try {
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      const s = readStat(Number(name));
      if (s && s.pgrp === pgid && s.state !== "Z") out.push(Number(name));
    }
  } catch {}
  return out;
}

/** Some process (a zombie included) has group id `pgid`. */
export function groupAlive(pgid: number): boolean {
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
  return process.platform !== "linux" || groupMembers(pgid).length > 0;
}

/** SIGKILL to the whole group; false when there was nothing to signal. */
export function killGroup(pgid: number): boolean {
  try {
    process.kill(-pgid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

export function groupTree(verifyMs = VERIFY_MS): ProcessTree {
  let proc: TreeProcess | undefined;
  const count = (pgid: number) => (process.platform === "linux" ? groupMembers(pgid).length : undefined);
  const killAndCheck = async (pgid: number, killed: number | undefined): Promise<TreeReport> => {
    killGroup(pgid);
    const verified = await waitUntil(() => !groupRunning(pgid), verifyMs);
    return { means: "process-group", killed, verified };
  };
  return {
    means: "process-group",
    wrap: (argv) => argv,
    attach(p) {
      proc = p;
    },
    async killAll() {
      if (!proc) return { means: "process-group", verified: true, killed: 0 };
      const pgid = proc.pid;
      const n = count(pgid);
      if (!groupAlive(pgid)) {
        // Not a group leader (spawned without setsid?): the main process at least.
        try {
          proc.kill("SIGKILL");
        } catch {}
      }
      return killAndCheck(pgid, n);
    },
    async reap() {
      if (!proc || !groupRunning(proc.pid)) return null;
      return killAndCheck(proc.pid, count(proc.pid));
    },
    release() {},
  };
}
