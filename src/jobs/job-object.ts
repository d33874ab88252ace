// Windows: every job in a Job Object of its own. Whatever the job starts is in the job too (it
// allows no breakaway), TerminateJobObject kills all of it, the job's active-process count
// proves it gone, and KILL_ON_JOB_CLOSE ends it with the bot: the only handle is the bot's, and
// Windows closes it when the bot dies, however it dies (Task Scheduler's End included).
//
// The race: Bun.spawn starts the process and we assign it to the job right after, in the same
// synchronous step (microseconds), while cmd.exe needs milliseconds to load and parse its command
// line before it can start anything. A child started inside that window would not be in the job
// and would survive a timeout. We accept the window rather than start every job through a
// wrapper process that waits to be assigned. Nested jobs (Windows 8+) let the assignment work
// although libuv has already put the process in a job of its own.
import type { Handle, Kernel32 } from "./kernel32.ts";
import { taskkillTree } from "./taskkill.ts";
import type { ProcessTree, TreeProcess, TreeReport } from "./tree.ts";
import { waitUntil } from "./wait.ts";

/** After TerminateJobObject, how long its processes may take to be gone before we say they were not. */
const VERIFY_MS = 2000;

// winnt.h
const JobObjectBasicAccountingInformation = 1;
const JobObjectExtendedLimitInformation = 9;
const JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000;
export const PROCESS_TERMINATE = 0x0001;
export const PROCESS_SET_QUOTA = 0x0100;
export const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
export const STILL_ACTIVE = 259;
export const ERROR_INVALID_PARAMETER = 87;

/** JOBOBJECT_EXTENDED_LIMIT_INFORMATION (x64: 144 bytes), only LimitFlags (offset 16) set. */
export function killOnCloseLimits(): Uint8Array {
  const info = new Uint8Array(144);
  new DataView(info.buffer).setUint32(16, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, true);
  return info;
}

/** ActiveProcesses of a JOBOBJECT_BASIC_ACCOUNTING_INFORMATION (48 bytes, at offset 40). */
export function activeProcesses(info: Uint8Array): number {
  return new DataView(info.buffer, info.byteOffset, info.byteLength).getUint32(40, true);
}

/** A FILETIME (100 ns ticks since 1601, UTC) as Unix milliseconds. */
export function filetimeToMs(ft: Uint8Array): number {
  const ticks = new DataView(ft.buffer, ft.byteOffset, 8).getBigUint64(0, true);
  return Number(ticks / 10_000n) - 11_644_473_600_000;
}

/** A Job Object holding one process and whatever it starts. */
export class JobObject {
  private constructor(
    private readonly k: Kernel32,
    private job: Handle,
  ) {}

  /** The job for `pid`, or why there is none (the step that failed and Windows' error code). */
  static create(k: Kernel32, pid: number): JobObject | string {
    const job = k.CreateJobObjectW();
    if (!job) return `CreateJobObjectW failed (error ${k.GetLastError()})`;
    const fail = (step: string) => {
      const why = `${step} failed (error ${k.GetLastError()})`;
      k.CloseHandle(job);
      return why;
    };
    if (!k.SetInformationJobObject(job, JobObjectExtendedLimitInformation, killOnCloseLimits())) return fail("SetInformationJobObject");
    const proc = k.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE, pid);
    if (!proc) return fail("OpenProcess");
    const assigned = k.AssignProcessToJobObject(job, proc);
    const why = assigned ? "" : fail("AssignProcessToJobObject");
    k.CloseHandle(proc);
    return assigned ? new JobObject(k, job) : why;
  }

  /** Processes running in the job; null when Windows does not say. */
  active(): number | null {
    const info = new Uint8Array(48);
    return this.k.QueryInformationJobObject(this.job, JobObjectBasicAccountingInformation, info) ? activeProcesses(info) : null;
  }

  terminate(): boolean {
    return this.k.TerminateJobObject(this.job, 1);
  }

  /** Closing the last handle kills whatever still runs in it (KILL_ON_JOB_CLOSE). */
  close(): void {
    if (this.job) this.k.CloseHandle(this.job);
    this.job = 0;
  }
}

/** A Job Object tree; if the job cannot be made for this process, taskkill's tree (`fallback`) instead. */
export function jobObjectTree(k: Kernel32, verifyMs = VERIFY_MS, fallbackTree: () => ProcessTree = taskkillTree): ProcessTree {
  let job: JobObject | undefined;
  let fallback: ProcessTree | undefined;
  const killAndCheck = async (j: JobObject, killed: number | undefined): Promise<TreeReport> => {
    const sent = j.terminate();
    const verified = sent && (await waitUntil(() => j.active() === 0, verifyMs));
    return { means: "job-object", killed, verified, problem: sent ? undefined : "TerminateJobObject failed" };
  };
  return {
    means: "job-object",
    wrap: (argv) => argv,
    attach(p: TreeProcess) {
      const made = JobObject.create(k, p.pid);
      if (typeof made !== "string") {
        job = made;
        return;
      }
      fallback = fallbackTree();
      fallback.attach(p);
    },
    async killAll() {
      if (fallback) return fallback.killAll();
      if (!job) return { means: "job-object", verified: true, killed: 0 };
      return killAndCheck(job, job.active() ?? undefined);
    },
    async reap() {
      if (fallback) return fallback.reap();
      const left = job?.active();
      if (!job || left === 0) return null;
      return killAndCheck(job, left ?? undefined);
    },
    release() {
      job?.close();
      fallback?.release();
    },
  };
}
