// Windows' Job Object, taskkill and the orphan check, decided against a fake kernel32: the
// real calls run only on Windows (checked by hand under Wine: scripts/wine-job-object.ts).
import { describe, expect, test } from "bun:test";
import { activeProcesses, filetimeToMs, jobObjectTree, killOnCloseLimits } from "../../src/jobs/job-object.ts";
import type { Handle, Kernel32 } from "../../src/jobs/kernel32.ts";
import { stopWindowsOrphan } from "../../src/jobs/orphans.ts";
import { taskkillTree } from "../../src/jobs/taskkill.ts";
import type { ProcessTree, TreeProcess } from "../../src/jobs/tree.ts";

interface FakeProcess {
  created: number;
  alive: boolean;
  /** Survives TerminateJobObject (a process Windows could not end). */
  stubborn?: boolean;
}

/** kernel32 as far as clawdbot uses it: jobs hold pids, handles name jobs or processes. */
class FakeKernel32 implements Kernel32 {
  calls: string[] = [];
  lastError = 0;
  failing = new Set<string>();
  procs = new Map<number, FakeProcess>();
  jobs = new Map<Handle, { pids: Set<number>; limits?: Uint8Array; open: boolean }>();
  handles = new Map<Handle, number>();
  /** A child the job's process starts: it is in every job its parent is in. */
  spawnChild(parent: number, pid: number): void {
    this.procs.set(pid, { created: Date.now(), alive: true });
    for (const j of this.jobs.values()) if (j.pids.has(parent)) j.pids.add(pid);
  }
  private next = 0x100;
  private fails(name: string, error = 5): boolean {
    this.calls.push(name);
    if (!this.failing.has(name)) return false;
    this.lastError = error;
    return true;
  }
  CreateJobObjectW(): Handle {
    if (this.fails("CreateJobObjectW")) return 0;
    const h = this.next++;
    this.jobs.set(h, { pids: new Set(), open: true });
    return h;
  }
  SetInformationJobObject(job: Handle, infoClass: number, info: Uint8Array): boolean {
    if (this.fails(`SetInformationJobObject(${infoClass})`)) return false;
    const j = this.jobs.get(job);
    if (j) j.limits = info.slice();
    return !!j;
  }
  QueryInformationJobObject(job: Handle, infoClass: number, info: Uint8Array): boolean {
    if (this.fails(`QueryInformationJobObject(${infoClass})`)) return false;
    const j = this.jobs.get(job);
    if (!j || infoClass !== 1 || info.byteLength < 48) return false;
    const active = [...j.pids].filter((p) => this.procs.get(p)?.alive).length;
    new DataView(info.buffer).setUint32(40, active, true);
    return true;
  }
  AssignProcessToJobObject(job: Handle, process: Handle): boolean {
    if (this.fails("AssignProcessToJobObject")) return false;
    const pid = this.handles.get(process);
    const j = this.jobs.get(job);
    if (pid === undefined || !j) return false;
    j.pids.add(pid);
    return true;
  }
  TerminateJobObject(job: Handle): boolean {
    if (this.fails("TerminateJobObject")) return false;
    const j = this.jobs.get(job);
    for (const pid of j?.pids ?? []) {
      const p = this.procs.get(pid);
      if (p && !p.stubborn) p.alive = false;
    }
    return !!j;
  }
  OpenProcess(access: number, pid: number): Handle {
    if (this.fails(`OpenProcess(0x${access.toString(16)})`, 87)) return 0;
    if (!this.procs.has(pid)) {
      this.lastError = 87; // ERROR_INVALID_PARAMETER: no such process
      return 0;
    }
    const h = this.next++;
    this.handles.set(h, pid);
    return h;
  }
  GetProcessTimes(process: Handle, creation: Uint8Array): boolean {
    const p = this.procs.get(this.handles.get(process) ?? -1);
    if (this.fails("GetProcessTimes") || !p) return false;
    new DataView(creation.buffer).setBigUint64(0, BigInt(p.created + 11_644_473_600_000) * 10_000n, true);
    return true;
  }
  GetExitCodeProcess(process: Handle, code: Uint8Array): boolean {
    const p = this.procs.get(this.handles.get(process) ?? -1);
    if (!p) return false;
    new DataView(code.buffer).setUint32(0, p.alive ? 259 : 0, true);
    return true;
  }
  CloseHandle(handle: Handle): boolean {
    this.calls.push(`CloseHandle(${this.jobs.has(handle) ? "job" : "process"})`);
    const j = this.jobs.get(handle);
    if (j) {
      // KILL_ON_JOB_CLOSE: the last handle closed ends everything in the job.
      if (j.limits && new DataView(j.limits.buffer).getUint32(16, true) & 0x2000) this.TerminateJobObject(handle);
      j.open = false;
    }
    return this.handles.delete(handle) || !!j;
  }
  GetLastError(): number {
    return this.lastError;
  }
}

const JOB_PID = 4242;
const proc = (pid = JOB_PID): TreeProcess => ({ pid, kill() {} });

function started(k: FakeKernel32, pid = JOB_PID): void {
  k.procs.set(pid, { created: Date.now(), alive: true });
}

describe("Job Object (fake kernel32)", () => {
  test("the job's process goes into a Job Object that kills on close; the process handle is closed", () => {
    const k = new FakeKernel32();
    started(k);
    jobObjectTree(k).attach(proc());
    expect(k.calls).toEqual(["CreateJobObjectW", "SetInformationJobObject(9)", "OpenProcess(0x101)", "AssignProcessToJobObject", "CloseHandle(process)"]);
    const job = [...k.jobs.values()][0];
    expect(job?.pids.has(JOB_PID)).toBe(true);
    expect(job?.limits?.byteLength).toBe(144); // JOBOBJECT_EXTENDED_LIMIT_INFORMATION on x64
    expect(new DataView(job!.limits!.buffer).getUint32(16, true)).toBe(0x2000); // JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
  });

  test("timeout: TerminateJobObject ends the whole tree, checked empty: process tree killed", async () => {
    const k = new FakeKernel32();
    started(k);
    const tree = jobObjectTree(k);
    tree.attach(proc());
    k.spawnChild(JOB_PID, 5000);
    k.spawnChild(5000, 5001); // a grandchild whose parent exits: still in the job
    k.procs.get(5000)!.alive = false;
    expect(await tree.killAll()).toEqual({ means: "job-object", killed: 2, verified: true });
    expect(k.procs.get(5001)?.alive).toBe(false);
  });

  test("a process that survives TerminateJobObject leaves the report unverified", async () => {
    const k = new FakeKernel32();
    started(k);
    const tree = jobObjectTree(k, 30);
    tree.attach(proc());
    k.spawnChild(JOB_PID, 5000);
    k.procs.get(5000)!.stubborn = true;
    expect(await tree.killAll()).toMatchObject({ means: "job-object", verified: false });
  });

  test("the job exited: what it left is killed; nothing left is no report", async () => {
    const k = new FakeKernel32();
    started(k);
    const tree = jobObjectTree(k);
    tree.attach(proc());
    k.spawnChild(JOB_PID, 5000);
    k.procs.get(JOB_PID)!.alive = false;
    expect(await tree.reap()).toEqual({ means: "job-object", killed: 1, verified: true });
    expect(await tree.reap()).toBeNull();
  });

  test("release closes the job's only handle: KILL_ON_JOB_CLOSE ends whatever still runs", () => {
    const k = new FakeKernel32();
    started(k);
    const tree = jobObjectTree(k);
    tree.attach(proc());
    k.spawnChild(JOB_PID, 5000);
    tree.release();
    expect(k.calls).toContain("CloseHandle(job)");
    expect(k.procs.get(5000)?.alive).toBe(false);
  });

  test("no Job Object (AssignProcessToJobObject refused): the job handle is closed and taskkill takes over", async () => {
    const k = new FakeKernel32();
    started(k);
    k.failing.add("AssignProcessToJobObject");
    const killed: number[] = [];
    const tree = jobObjectTree(k, 30, () =>
      taskkillTree(async (pid) => {
        killed.push(pid);
        return 0;
      }),
    );
    tree.attach(proc());
    expect(k.calls).toContain("CloseHandle(job)");
    expect(await tree.killAll()).toEqual({ means: "taskkill", verified: true });
    expect(killed).toEqual([JOB_PID]);
  });
});

describe("taskkill's exit status is the report", () => {
  const run = async (status: number | null) => {
    const tree: ProcessTree = taskkillTree(async () => status);
    let rootKilled = false;
    tree.attach({ pid: 7, kill: () => (rootKilled = true) });
    return { report: await tree.killAll(), rootKilled };
  };

  test("0: done (and said with its limits); otherwise the failure is named; the root is killed either way", async () => {
    expect(await run(0)).toEqual({ report: { means: "taskkill", verified: true }, rootKilled: true });
    expect(await run(1)).toEqual({ report: { means: "taskkill", verified: false, problem: "exit 1" }, rootKilled: true });
    expect((await run(null)).report.problem).toBe("it did not run");
  });

  test("after the root exited nothing can be found from it: no claim", async () => {
    const tree = taskkillTree(async () => 0);
    tree.attach({ pid: 7, kill() {} });
    expect(await tree.reap()).toBeNull();
  });
});

describe("stopWindowsOrphan: the stored pid is killed only if it is still the job", () => {
  const JOB_START = Date.parse("2024-05-01T12:00:00Z");

  function setup(created: number | null) {
    const k = new FakeKernel32();
    if (created !== null) k.procs.set(JOB_PID, { created, alive: true });
    const killed: number[] = [];
    const taskkill = (status: number) => (pid: number) => {
      killed.push(pid);
      return status;
    };
    return { k, killed, taskkill };
  }

  test("created when the job started: taskkill /T, and its exit status decides", () => {
    const { k, killed, taskkill } = setup(JOB_START + 40);
    expect(stopWindowsOrphan(JOB_PID, JOB_START, k, taskkill(0))).toBe("stopped");
    expect(killed).toEqual([JOB_PID]);
    expect(stopWindowsOrphan(JOB_PID, JOB_START, k, taskkill(128))).toBe("gone");
    expect(stopWindowsOrphan(JOB_PID, JOB_START, k, taskkill(1))).toBe("kill-failed");
  });

  test("taskkill failed but the process is gone when looked at again: stopped", () => {
    const { k } = setup(JOB_START + 40);
    const failsButKills = (pid: number) => {
      k.procs.get(pid)!.alive = false;
      return 1; // Wine 8's taskkill rejects /T yet kills the pid
    };
    expect(stopWindowsOrphan(JOB_PID, JOB_START, k, failsButKills)).toBe("stopped");
  });

  test("created an hour after the job (pid reused): left alone, taskkill never runs", () => {
    const { k, killed, taskkill } = setup(JOB_START + 3_600_000);
    expect(stopWindowsOrphan(JOB_PID, JOB_START, k, taskkill(0))).toBe("not-ours");
    expect(killed).toEqual([]);
  });

  test("creation time unknown: left alone", () => {
    const { k, killed, taskkill } = setup(JOB_START);
    k.failing.add("GetProcessTimes");
    expect(stopWindowsOrphan(JOB_PID, JOB_START, k, taskkill(0))).toBe("not-ours");
    expect(killed).toEqual([]);
  });

  test("no such process, or one that already exited: gone", () => {
    const none = setup(null);
    expect(stopWindowsOrphan(JOB_PID, JOB_START, none.k, none.taskkill(0))).toBe("gone");
    const exited = setup(JOB_START);
    exited.k.procs.get(JOB_PID)!.alive = false;
    expect(stopWindowsOrphan(JOB_PID, JOB_START, exited.k, exited.taskkill(0))).toBe("gone");
    expect([...none.killed, ...exited.killed]).toEqual([]);
  });

  test("a process we may not open is not one a job of ours could be", () => {
    const { k, killed, taskkill } = setup(JOB_START);
    k.OpenProcess = () => {
      k.lastError = 5; // ERROR_ACCESS_DENIED
      return 0;
    };
    expect(stopWindowsOrphan(JOB_PID, JOB_START, k, taskkill(0))).toBe("not-ours");
    expect(killed).toEqual([]);
  });
});

describe("Windows structures", () => {
  test("FILETIME to Unix ms", () => {
    const ft = new Uint8Array(8);
    new DataView(ft.buffer).setBigUint64(0, (1_704_067_200_000n + 11_644_473_600_000n) * 10_000n, true);
    expect(filetimeToMs(ft)).toBe(Date.parse("2024-01-01T00:00:00Z"));
  });

  test("the limits and accounting layouts", () => {
    const limits = killOnCloseLimits();
    expect([...limits].filter((b) => b !== 0)).toEqual([0x20]); // 0x2000 little-endian at offset 16
    expect(limits[17]).toBe(0x20);
    const acct = new Uint8Array(48);
    acct[40] = 3;
    expect(activeProcesses(acct)).toBe(3);
  });
});
