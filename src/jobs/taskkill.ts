// Windows without a Job Object: taskkill /T /F walks the parent-child links from a live root.
// It misses a child whose parent already exited (nothing links it to the root any more), so a
// report from it never says "process tree killed". Its exit status is the only word on success.
import type { ProcessTree, TreeProcess } from "./tree.ts";

/** taskkill should take milliseconds; never let a stuck one hold a job open. */
const TASKKILL_TIMEOUT_MS = 10_000;
/** taskkill's exit status when no process has that pid. */
export const TASKKILL_NOT_FOUND = 128;

function taskkillArgv(pid: number): string[] {
  const systemRoot = process.env.SystemRoot || process.env.windir || "C:\\Windows";
  return [`${systemRoot}\\System32\\taskkill.exe`, "/pid", String(pid), "/T", "/F"];
}

const OPTIONS = { stdin: "ignore", stdout: "ignore", stderr: "ignore", windowsHide: true, timeout: TASKKILL_TIMEOUT_MS } as const;

/** taskkill /T /F of `pid`: its exit status, or null when it could not run or was stopped. */
export async function taskkill(pid: number): Promise<number | null> {
  try {
    const p = Bun.spawn(taskkillArgv(pid), OPTIONS);
    const code = await p.exited;
    return p.signalCode ? null : code;
  } catch {
    return null;
  }
}

/** taskkill for synchronous callers (the orphan check at start-up). */
export function taskkillSync(pid: number): number | null {
  try {
    const r = Bun.spawnSync(taskkillArgv(pid), OPTIONS);
    return r.signalCode ? null : r.exitCode;
  } catch {
    return null;
  }
}

export function taskkillTree(kill: (pid: number) => Promise<number | null> = taskkill): ProcessTree {
  let proc: TreeProcess | undefined;
  return {
    means: "taskkill",
    wrap: (argv) => argv,
    attach(p) {
      proc = p;
    },
    async killAll() {
      if (!proc) return { means: "taskkill", verified: true };
      // While the root lives (until we kill it below) taskkill /T can walk its tree.
      const code = await kill(proc.pid);
      try {
        proc.kill();
      } catch {}
      if (code === 0) return { means: "taskkill", verified: true };
      return { means: "taskkill", verified: false, problem: code === null ? "it did not run" : `exit ${code}` };
    },
    // The root is gone: nothing links its leftovers to it any more, so none can be found.
    reap: async () => null,
    release() {},
  };
}
