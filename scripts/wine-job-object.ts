#!/usr/bin/env bun
// Checks by hand, under Wine (or on Windows), the Job Object calls clawdbot makes for its jobs
// (src/jobs/job-object.ts, kernel32.ts): CI has no Windows, and bun:test cannot load kernel32.
//   bun scripts/wine-job-object.ts [--no-build] [--kill-with SIGKILL|SIGTERM]
//                                             (Linux: builds the check exe, runs it under winerun;
//                                              --kill-with ends it by that signal instead of exit)
//   dist\wine-job-object.exe                  (Windows: the checks themselves)
// One PASS/FAIL line per call or behaviour, with what Windows (or Wine) answered. On Linux the
// processes are also checked from outside: Wine shows each Windows process in `ps`, so a
// grandchild `ping -n 4x 127.0.0.1` that survived a kill is seen there. Exit 0: all passed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ERROR_INVALID_PARAMETER, filetimeToMs, JobObject, killOnCloseLimits, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SET_QUOTA, PROCESS_TERMINATE } from "../src/jobs/job-object.ts";
import { kernel32 } from "../src/jobs/kernel32.ts";
import { stopWindowsOrphan } from "../src/jobs/orphans.ts";
import { runProcess } from "../src/jobs/run-process.ts";
import { shellArgv } from "../src/jobs/shell.ts";
import { taskkillSync } from "../src/jobs/taskkill.ts";

const ROOT = join(import.meta.dir, "..");
let failed = 0;

/** Under Wine (winerun sets WINEPREFIX and Windows programs inherit it). */
const WINE = !!process.env.WINEPREFIX;

/** `wineGap`: a known Wine 8 gap, not a clawdbot failure (reported, not counted). */
function say(name: string, ok: boolean, detail = "", wineGap = false): void {
  const known = !ok && wineGap && WINE;
  if (!ok && !known) failed++;
  console.log(`${ok ? "PASS" : known ? "WINE" : "FAIL"} ${name}${detail ? ` - ${detail}` : ""}`);
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await Bun.sleep(50);
  }
  return true;
}

// ---------------------------------------------------------------- inside (Windows / Wine)

async function inside(): Promise<void> {
  const k = kernel32();
  say("bun:ffi loads kernel32.dll with every function clawdbot uses", !!k);
  if (!k) return;
  const comspec = process.env.ComSpec || "C:\\windows\\system32\\cmd.exe";
  const spawnCmd = (command: string) =>
    Bun.spawn(shellArgv(command, "win32", comspec), { windowsVerbatimArguments: true, stdin: "ignore", stdout: "ignore", stderr: "ignore", windowsHide: true });

  // 1. Each call by hand, on cmd.exe running ping.exe (a grandchild of ours).
  const p = spawnCmd("ping -n 44 127.0.0.1 >nul");
  const job = k.CreateJobObjectW();
  say("CreateJobObjectW", job !== 0, `handle ${job}, last error ${k.GetLastError()}`);
  say("SetInformationJobObject(ExtendedLimitInformation, KILL_ON_JOB_CLOSE)", k.SetInformationJobObject(job, 9, killOnCloseLimits()), `last error ${k.GetLastError()}`);
  const limits = new Uint8Array(144);
  const readBack = k.QueryInformationJobObject(job, 9, limits);
  const flags = new DataView(limits.buffer).getUint32(16, true);
  // Informational: Wine 8 answers this query with zeroed limits; the kill-on-close check below is what counts.
  console.log(`INFO QueryInformationJobObject(ExtendedLimitInformation) - ok ${readBack}, LimitFlags 0x${flags.toString(16)} (0x2000 expected on Windows)`);
  const h = k.OpenProcess(PROCESS_SET_QUOTA | PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION, p.pid);
  say("OpenProcess(SET_QUOTA|TERMINATE|QUERY_LIMITED)", h !== 0, `pid ${p.pid}, handle ${h}, last error ${k.GetLastError()}`);
  say("AssignProcessToJobObject (a process libuv already put in its own job: nested)", k.AssignProcessToJobObject(job, h), `last error ${k.GetLastError()}`);
  const acct = new Uint8Array(48);
  const active = () => (k.QueryInformationJobObject(job, 1, acct) ? new DataView(acct.buffer).getUint32(40, true) : -1);
  const two = await until(() => active() >= 2, 10_000);
  say("QueryInformationJobObject(BasicAccounting): cmd.exe and its ping.exe both in the job", two, `ActiveProcesses ${active()}`);
  console.log("MARK running 44");
  await Bun.sleep(500); // the outside looks for ping -n 44 now
  const times = [0, 1, 2, 3].map(() => new Uint8Array(8));
  const gotTimes = k.GetProcessTimes(h, times[0]!, times[1]!, times[2]!, times[3]!);
  const created = gotTimes ? filetimeToMs(times[0]!) : Number.NaN;
  say("GetProcessTimes: creation time of the job's process", gotTimes && Math.abs(created - Date.now()) < 120_000, `created ${gotTimes ? new Date(created).toISOString() : "?"}, now ${new Date().toISOString()}`);
  say("TerminateJobObject", k.TerminateJobObject(job, 1), `last error ${k.GetLastError()}`);
  const empty = await until(() => active() === 0, 5000);
  say("QueryInformationJobObject after TerminateJobObject: ActiveProcesses 0", empty, `ActiveProcesses ${active()}`);
  const code = new Uint8Array(4);
  const gotCode = k.GetExitCodeProcess(h, code);
  say("GetExitCodeProcess: the exit code TerminateJobObject gave", gotCode && new DataView(code.buffer).getUint32(0, true) === 1, `code ${new DataView(code.buffer).getUint32(0, true)}`);
  k.CloseHandle(h);
  k.CloseHandle(job);
  console.log("MARK terminated 44");
  await Bun.sleep(500);

  // 2. A stored pid that is no process: OpenProcess fails with ERROR_INVALID_PARAMETER.
  const none = k.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0x7ffffff0);
  say("OpenProcess of a pid nobody has: fails with ERROR_INVALID_PARAMETER (87)", none === 0 && k.GetLastError() === ERROR_INVALID_PARAMETER, `handle ${none}, last error ${k.GetLastError()}`);

  // 3. runProcess as jobs use it: a timeout kills the tree, verified.
  const r = await runProcess({ argv: shellArgv("ping -n 41 127.0.0.1 >nul", "win32", comspec), timeoutMs: 2000 });
  say("runProcess timeout: process tree killed (job-object, verified)", r.timedOut && r.tree?.means === "job-object" && r.tree.verified, JSON.stringify(r.tree));
  console.log("MARK after-timeout 41");
  await Bun.sleep(500);

  // 4. A job that exits leaving a background process: killed when the job ends.
  const r2 = await runProcess({ argv: shellArgv("start /b ping -n 42 127.0.0.1 >nul & echo done", "win32", comspec), timeoutMs: 20_000 });
  say("runProcess: what an exited job left running is killed", r2.exitCode === 0 && r2.tree?.means === "job-object" && r2.tree.verified && (r2.tree.killed ?? 0) >= 1, `exit ${r2.exitCode}, ${JSON.stringify(r2.tree)}, output ${JSON.stringify(r2.output.trim())}`);
  console.log("MARK after-leftovers 42");
  await Bun.sleep(500);

  // 5. The orphan check: the creation time decides (pid reuse), taskkill's status is the outcome.
  const o = spawnCmd("ping -n 45 127.0.0.1 >nul");
  await Bun.sleep(500);
  say("stopWindowsOrphan: a process created an hour after the job is not ours", stopWindowsOrphan(o.pid, Date.now() - 3_600_000, k) === "not-ours");
  // Wine 8's taskkill rejects /T (exit 1) and kills nothing: there the honest outcome is kill-failed.
  const t = spawnCmd("ping -n 46 127.0.0.1 >nul");
  await Bun.sleep(500);
  const status = taskkillSync(t.pid);
  const exited = (p: { exited: Promise<number> }) => Promise.race([p.exited.then(() => true), Bun.sleep(3000).then(() => false)]);
  const rootGone = await exited(t);
  say("taskkill /pid <cmd.exe> /T /F: exit status 0, cmd.exe gone", status === 0 && rootGone, `exit status ${status}, cmd.exe ${rootGone ? "gone" : "still running"}`, true);
  if (!rootGone) t.kill();
  const stopped = stopWindowsOrphan(o.pid, Date.now(), k);
  const oGone = await exited(o);
  const honest = stopped === (oGone ? "stopped" : "kill-failed");
  say("stopWindowsOrphan: the job's own process is stopped (and the outcome says what happened)", stopped === "stopped" && oGone, `outcome ${stopped}, cmd.exe ${oGone ? "gone" : "still running"}`, honest);
  if (!oGone) o.kill(); // its ping.exe is cleaned up by the outside

  // 6. Kill on close: a job's tree dies with the bot. Exit without closing the job handle.
  const last = spawnCmd("ping -n 43 127.0.0.1 >nul");
  const held = JobObject.create(k, last.pid);
  say("JobObject.create for the kill-on-close check", typeof held !== "string", typeof held === "string" ? held : "");
  await until(() => typeof held !== "string" && (held.active() ?? 0) >= 2, 10_000);
  // The same through runProcess, as the bot runs a job (pipes, the default tree), left running.
  void runProcess({ argv: shellArgv("ping -n 48 127.0.0.1 >nul", "win32", comspec), timeoutMs: 120_000 });
  // The control: the same tree in no job of ours (only libuv's, whose children may break away).
  spawnCmd("ping -n 47 127.0.0.1 >nul");
  await Bun.sleep(1000);
  console.log(`inside: ${failed} failed`);
  console.log("MARK exiting 43");
  // --kill-with SIGNAL: the outside kills us (a crash, Task Scheduler's End); else we exit.
  if (process.env.JOB_CHECK_WAIT_FOR_KILL) await Bun.sleep(60_000);
  await Bun.sleep(500);
  process.exit(failed ? 1 : 0);
}

// ---------------------------------------------------------------- outside (Linux)

/** Our Wine prefix (winerun's default): other people's Wine runs on this machine are not ours. */
const PREFIX = process.env.WINEPREFIX ?? join(process.env.WINERUN_HOME ?? "/tmp/winerun", "prefix");

function inOurPrefix(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`WINEPREFIX=${PREFIX}`);
  } catch {
    return false;
  }
}

/** Linux pids of our Wine processes whose command line matches (ps shows Windows command lines). */
function pids(marker: RegExp): number[] {
  const ps = Bun.spawnSync(["ps", "-eo", "pid=,stat=,args="]).stdout.toString();
  return ps
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && !m[2]?.startsWith("Z") && marker.test(m[3] ?? ""))
    .map((m) => Number(m[1]))
    .filter(inOurPrefix);
}
const ping = (n: number) => new RegExp(`ping(\\.exe)? +-n +${n} +127\\.0\\.0\\.1`, "i");

async function outside(): Promise<void> {
  const exe = join(ROOT, "dist", "wine-job-object.exe");
  if (!process.argv.includes("--no-build")) {
    const b = Bun.spawnSync(["bun", "build", "--compile", "--target", "bun-windows-x64", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", join(ROOT, "scripts", "wine-job-object.ts"), "--outfile", exe], { stdout: "inherit", stderr: "inherit" });
    if (b.exitCode !== 0) throw new Error("build failed");
  }
  const winerun = process.env.WINERUN ?? "/work/shared/tools/wine/winerun";
  const killWith = process.argv[process.argv.indexOf("--kill-with") + 1];
  const byKill = process.argv.includes("--kill-with") && !!killWith;
  const env = { ...process.env, ...(byKill ? { JOB_CHECK_WAIT_FOR_KILL: "1" } : {}) };
  const p = Bun.spawn([winerun, exe], { env, stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const checks: Promise<void>[] = [];
  const gone = (name: string, n: number, ms = 5000) =>
    checks.push(
      (async () => {
        const ok = await until(() => pids(ping(n)).length === 0, ms);
        say(`outside: ${name} (no ping -n ${n} in ps)`, ok, ok ? "" : `still running: ${pids(ping(n)).join(",")}`);
      })(),
    );
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of p.stdout) {
    buf += dec.decode(chunk, { stream: true });
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
      const mark = /^MARK (\S+) (\d+)/.exec(line);
      if (!mark) {
        console.log(line);
        if (line.startsWith("FAIL")) failed++;
        continue;
      }
      const [, what, n] = mark;
      if (what === "running") say(`outside: ping -n ${n} runs (the check can see it)`, pids(ping(Number(n))).length > 0);
      else if (what === "exiting") {
        say(`outside: ping -n ${n} runs before the exit`, pids(ping(Number(n))).length > 0);
        if (byKill) {
          console.log(`INFO killing the wine process (Linux pid ${p.pid}) with ${killWith}`);
          p.kill(killWith as NodeJS.Signals);
        }
      } else gone(what ?? "", Number(n));
    }
  }
  const code = await p.exited;
  say("inside exited", byKill ? p.signalCode === killWith : code === 0, `exit ${code} ${p.signalCode ?? ""}`);
  gone("kill on close: the job's tree died with the process holding its handle", 43, 10_000);
  gone("kill on close: a job runProcess was running died with it", 48, 10_000);
  await Promise.all(checks);
  const control = pids(ping(47)).length > 0;
  console.log(`INFO control: a ping.exe in no job of ours ${control ? "survived the exit (so the kill above was the Job Object's)" : "died too (libuv's job took it: this run cannot tell whose kill-on-close it was)"}`);
  // Leave nothing of ours behind, whatever failed.
  for (const n of [41, 42, 43, 44, 45, 46, 47, 48]) for (const pid of pids(ping(n))) process.kill(pid, "SIGKILL");
  console.log(`\n${failed === 0 ? "all passed" : `${failed} failed`}`);
  process.exit(failed ? 1 : 0);
}

if (process.platform === "win32") await inside();
else await outside();
