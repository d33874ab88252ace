// The kernel32 functions clawdbot calls through bun:ffi (Windows only), behind an interface:
// what decides with them (job-object.ts, orphans.ts) runs in tests on Linux with a fake.
import { dlopen, FFIType, type Pointer } from "bun:ffi";

/** A HANDLE as a number; 0 is none (NULL). */
export type Handle = number;

export interface Kernel32 {
  /** CreateJobObjectW(NULL, NULL): an unnamed job whose handle no child inherits. */
  CreateJobObjectW(): Handle;
  SetInformationJobObject(job: Handle, infoClass: number, info: Uint8Array): boolean;
  QueryInformationJobObject(job: Handle, infoClass: number, info: Uint8Array): boolean;
  AssignProcessToJobObject(job: Handle, process: Handle): boolean;
  TerminateJobObject(job: Handle, exitCode: number): boolean;
  OpenProcess(access: number, pid: number): Handle;
  /** Four FILETIMEs (8 bytes each): creation, exit, kernel, user. */
  GetProcessTimes(process: Handle, creation: Uint8Array, exit: Uint8Array, kernel: Uint8Array, user: Uint8Array): boolean;
  GetExitCodeProcess(process: Handle, code: Uint8Array): boolean;
  CloseHandle(handle: Handle): boolean;
  GetLastError(): number;
}

const H = FFIType.ptr;
const BOOL = FFIType.i32;
const DWORD = FFIType.u32;

function load(): Kernel32 {
  const { symbols: k } = dlopen("kernel32.dll", {
    CreateJobObjectW: { args: [H, H], returns: H },
    SetInformationJobObject: { args: [H, FFIType.i32, H, DWORD], returns: BOOL },
    QueryInformationJobObject: { args: [H, FFIType.i32, H, DWORD, H], returns: BOOL },
    AssignProcessToJobObject: { args: [H, H], returns: BOOL },
    TerminateJobObject: { args: [H, DWORD], returns: BOOL },
    OpenProcess: { args: [DWORD, BOOL, DWORD], returns: H },
    GetProcessTimes: { args: [H, H, H, H, H], returns: BOOL },
    GetExitCodeProcess: { args: [H, H], returns: BOOL },
    CloseHandle: { args: [H], returns: BOOL },
    GetLastError: { args: [], returns: DWORD },
  });
  const p = (h: Handle) => h as Pointer;
  return {
    CreateJobObjectW: () => Number(k.CreateJobObjectW(null, null) ?? 0),
    SetInformationJobObject: (job, cls, info) => k.SetInformationJobObject(p(job), cls, info, info.byteLength) !== 0,
    QueryInformationJobObject: (job, cls, info) => k.QueryInformationJobObject(p(job), cls, info, info.byteLength, null) !== 0,
    AssignProcessToJobObject: (job, proc) => k.AssignProcessToJobObject(p(job), p(proc)) !== 0,
    TerminateJobObject: (job, code) => k.TerminateJobObject(p(job), code) !== 0,
    OpenProcess: (access, pid) => Number(k.OpenProcess(access, 0, pid) ?? 0),
    GetProcessTimes: (proc, c, e, kt, u) => k.GetProcessTimes(p(proc), c, e, kt, u) !== 0,
    GetExitCodeProcess: (proc, code) => k.GetExitCodeProcess(p(proc), code) !== 0,
    CloseHandle: (h) => k.CloseHandle(p(h)) !== 0,
    GetLastError: () => k.GetLastError(),
  };
}

let loaded: Kernel32 | null | undefined;

/** kernel32 on Windows, loaded once; null elsewhere or when bun:ffi cannot load it. */
export function kernel32(): Kernel32 | null {
  if (loaded === undefined) {
    try {
      loaded = process.platform === "win32" ? load() : null;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}
