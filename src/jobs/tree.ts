// A job's process tree: what holds everything a job starts together so that it can all be
// killed, and what was verified after the kill. Each platform has a strongest means:
// - Linux: a cgroup v2 of its own (cgroup.ts) where the bot can make one: nothing the job
//   starts can leave it (short of running as root and moving itself), and it is checked empty.
// - Windows: a Job Object (job-object.ts): the whole tree, and it dies with the bot.
// - otherwise: the process group (process-group.ts; a process that calls setsid() leaves it),
//   or on Windows without a Job Object taskkill /T (taskkill.ts; it misses orphaned children).
import { cgroupBase, cgroupTree } from "./cgroup.ts";
import { jobObjectTree } from "./job-object.ts";
import { kernel32 } from "./kernel32.ts";
import { groupTree } from "./process-group.ts";
import { taskkillTree } from "./taskkill.ts";

export type TreeMeans = "cgroup" | "process-group" | "job-object" | "taskkill";

/** What a kill reached and what was checked after it. */
export interface TreeReport {
  means: TreeMeans;
  /** How many processes were killed, when that is known. */
  killed?: number;
  /** Checked afterwards: nothing of what `means` holds still runs. */
  verified: boolean;
  /** What failed, in a few words (taskkill's exit status, say). */
  problem?: string;
}

/** The job's main process as the tree needs it. */
export interface TreeProcess {
  readonly pid: number;
  kill(signal?: number | NodeJS.Signals): void;
}

export interface ProcessTree {
  readonly means: TreeMeans;
  /** The argv to spawn instead of `argv` (a cgroup's wrapper enters it before the job runs). */
  wrap(argv: string[]): string[];
  /** The main process runs. */
  attach(proc: TreeProcess): void;
  /** Timeout or abort: kill the whole tree, the main process included. Never throws. */
  killAll(): Promise<TreeReport>;
  /** The main process exited: kill whatever it left running; null when nothing was left. Never throws. */
  reap(): Promise<TreeReport | null>;
  /** Frees what the tree holds (a cgroup directory, a Job Object handle). Never throws. */
  release(): void;
}

export type TreeFactory = () => ProcessTree;

/** The strongest means this process has, chosen once per job. */
export function defaultTree(): ProcessTree {
  if (process.platform === "win32") {
    const k = kernel32();
    return k ? jobObjectTree(k) : taskkillTree();
  }
  const base = process.platform === "linux" ? cgroupBase() : null;
  return base ? cgroupTree(base) : groupTree();
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * The words for a report, claiming only what was verified. `kill`: the whole job was killed
 * (timeout, cancel); `leftovers`: the job had exited and this is what it left behind.
 */
export function describeTree(r: TreeReport, what: "kill" | "leftovers"): string {
  const count = r.killed === undefined ? "the background processes" : plural(r.killed, "background process", "background processes");
  switch (r.means) {
    case "cgroup":
    case "job-object":
      if (what === "kill") return r.verified ? "process tree killed" : "kill sent to its process tree, but part of it still ran afterwards";
      return r.verified ? `${count} it left killed` : `${count} it left signalled, but part still ran afterwards`;
    case "process-group": {
      const caveat = "a process that left the group may still run";
      if (what === "kill") return r.verified ? `its process group killed; ${caveat}` : `its process group signalled, but part of it still ran afterwards; ${caveat}`;
      return r.verified ? `${count} it left in its process group killed; ${caveat}` : `${count} it left in its process group signalled, but part still ran afterwards; ${caveat}`;
    }
    case "taskkill":
      return r.verified
        ? "taskkill /T ended it and the children it found; a child whose parent had exited may still run"
        : `taskkill failed (${r.problem ?? "no exit status"}); the main process was killed, its children may still run`;
  }
}
