// Linux: every job in a cgroup v2 of its own, made under the bot's own cgroup when the bot may
// (root, or a service manager that delegated its cgroup: systemd's Delegate=yes). A process
// cannot leave its cgroup by setsid() or double-forking the way it leaves a process group, so
// `cgroup.kill` (Linux 5.14) reaches all of it, and `populated 0` in cgroup.events proves it
// gone. A job running as root could still move itself out: nothing the bot makes holds root.
//
// No race at the start: the job's first process is a tiny /bin/sh that makes the cgroup, moves
// itself in, and only then execs the job (same pid), so nothing of the job runs outside it.
// The cgroup is named after that pid, so a restart after a crash finds it from the stored pid.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { groupRunning, groupTree, killGroup } from "./process-group.ts";
import type { ProcessTree, TreeProcess } from "./tree.ts";
import { waitUntil, waitUntilSync } from "./wait.ts";

/** After cgroup.kill, how long the cgroup may take to empty before we say it did not. */
const VERIFY_MS = 2000;
const JOB_PREFIX = "clawdbot-job-";

/**
 * `sh -c ENTER clawdbot-job <base> <argv...>`: make `<base>/clawdbot-job-<own pid>`, enter it,
 * become the job. If it cannot enter, the job does not run: running it unconfined would make
 * every later "process tree killed" a guess.
 */
const ENTER = `d="$1/${JOB_PREFIX}$$"; mkdir -p "$d" && echo $$ > "$d/cgroup.procs" || { echo "clawdbot: cannot put the job in its cgroup $d, so it was not run" >&2; exit 125; }; shift; exec "$@"`;

/** The cgroup of the job whose first process had `pid`, under `base`. */
export const jobCgroup = (base: string, pid: number) => join(base, `${JOB_PREFIX}${pid}`);

let probed: string | null | undefined;

/** The bot's own cgroup v2 directory when jobs can get cgroups under it, else null. Probed once. */
export function cgroupBase(): string | null {
  if (probed === undefined) probed = probeCgroupBase();
  return probed;
}

function probeCgroupBase(): string | null {
  try {
    const own = /^0::(\/.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1];
    const mount = cgroup2Mount(readFileSync("/proc/self/mountinfo", "utf8"));
    if (!own || !mount) return null;
    const base = join(mount, own);
    // Moving the job's process out of the bot's cgroup needs write access to the bot's cgroup.procs.
    accessSync(join(base, "cgroup.procs"), constants.W_OK);
    const probe = join(base, `clawdbot-probe-${process.pid}`);
    mkdirSync(probe, { recursive: true });
    try {
      return existsSync(join(probe, "cgroup.kill")) ? base : null;
    } finally {
      rmdirSync(probe);
    }
  } catch {
    return null;
  }
}

/** The mount point of the cgroup v2 hierarchy in /proc/self/mountinfo (unified or hybrid layout). */
export function cgroup2Mount(mountinfo: string): string | null {
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (right?.split(" ")[0] !== "cgroup2" || !left) continue;
    const fields = left.split(" ");
    // Field 4 is the root of the mount within the hierarchy: only a whole-hierarchy mount maps paths.
    if (fields[3] === "/" && fields[4]) return fields[4].replace(/\\040/g, " ");
  }
  return null;
}

/** The pids in a cgroup (none when it is gone). */
export function cgroupProcs(dir: string): number[] {
  try {
    return readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Some process runs in the cgroup or below it. Zombies do not count: they left at exit. */
function populated(dir: string): boolean {
  try {
    return /^populated 1$/m.test(readFileSync(join(dir, "cgroup.events"), "utf8"));
  } catch {
    return false;
  }
}

function killCgroup(dir: string): void {
  try {
    writeFileSync(join(dir, "cgroup.kill"), "1");
  } catch {}
}

function removeCgroup(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {}
}

export function cgroupTree(base: string, verifyMs = VERIFY_MS): ProcessTree {
  let proc: TreeProcess | undefined;
  let dir = "";
  // Until the wrapper has entered the cgroup (a few microseconds), the job is only its process group.
  const group = groupTree(verifyMs);
  const gone = () => !populated(dir);
  return {
    means: "cgroup",
    wrap: (argv) => ["/bin/sh", "-c", ENTER, "clawdbot-job", base, ...argv],
    attach(p) {
      proc = p;
      dir = jobCgroup(base, p.pid);
      group.attach(p);
    },
    async killAll() {
      if (!proc) return { means: "cgroup", verified: true, killed: 0 };
      const pid = proc.pid;
      const killed = Math.max(cgroupProcs(dir).length, 1);
      // The group first: a wrapper not yet inside cannot enter once dead. Then the cgroup,
      // again while checking, in case a wrapper entered in the same instant.
      killGroup(pid);
      killCgroup(dir);
      const verified = await waitUntil(() => {
        if (!gone()) killCgroup(dir);
        return gone() && !groupRunning(pid);
      }, verifyMs);
      return { means: "cgroup", killed, verified };
    },
    async reap() {
      // No cgroup: the wrapper could not make it (and said so); only the group is known.
      if (!existsSync(dir)) return group.reap();
      const killed = cgroupProcs(dir).length;
      if (killed === 0 && gone()) return null;
      killCgroup(dir);
      return { means: "cgroup", killed, verified: await waitUntil(gone, verifyMs) };
    },
    release() {
      if (dir) removeCgroup(dir);
    },
  };
}

/**
 * After a crash: the job cgroup of the stored pid, if there is one under this bot's cgroup.
 * `stopped`/`gone` as for stopOrphanJob; `kill-failed` when it did not empty; null: no such cgroup.
 */
export function stopOrphanCgroup(pid: number, base = cgroupBase(), verifyMs = VERIFY_MS): "stopped" | "gone" | "kill-failed" | null {
  if (!base) return null;
  const dir = jobCgroup(base, pid);
  if (!existsSync(dir)) return null;
  let outcome: "stopped" | "gone" | "kill-failed" = "gone";
  if (populated(dir)) {
    killCgroup(dir);
    outcome = waitUntilSync(() => !populated(dir), verifyMs) ? "stopped" : "kill-failed";
  }
  if (outcome !== "kill-failed") removeCgroup(dir);
  return outcome;
}
