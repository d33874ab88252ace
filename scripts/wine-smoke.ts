#!/usr/bin/env bun
// Smoke test of the Windows executable under Wine, run by hand (CI has no Wine):
//   bun scripts/wine-smoke.ts [--no-build] [--keep]
// The Slack emulator runs here (Linux) on 127.0.0.1; dist/clawdbot.exe runs under
// /work/shared/tools/wine/winerun (override with WINERUN) and talks to it. Prints one
// PASS/FAIL line per check and a summary. Exit 0: all passed; 3: only Wine's failures
// (FAIL (Wine): a known Wine 8 gap, not a clawdbot bug); 1: a clawdbot failure.
//
// Wine is not Windows. Where Wine is known to differ the check says so (WINE NOTE):
//  - a connect to a closed port hangs instead of being refused (health of a stopped bot
//    is then a timeout, exit 2, not "unreachable", exit 2);
//  - a signal to the wine process is not a console event: SIGTERM ends the process at once,
//    like TerminateProcess (which is also what Task Scheduler's "End" does);
//  - paths: Z:\ is the Linux root, so Z:\tmp\x is /tmp/x.
import { existsSync, linkSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { SlackEmulator } from "../src/emulator/index.ts";
import type { EmuMessage } from "../src/emulator/types.ts";

const ROOT = join(import.meta.dir, "..");
const EXE = join(ROOT, "dist", "clawdbot.exe");
const WINERUN = process.env.WINERUN ?? "/work/shared/tools/wine/winerun";
const WINEPREFIX = process.env.WINEPREFIX ?? join(process.env.WINERUN_HOME ?? "/tmp/winerun", "prefix");
const args = new Set(process.argv.slice(2));
const CH = "CWINE";
const USER = "UWINEUSER";
const APPROVER = "UWINEAPPROVER";

// ---------------------------------------------------------------- reporting

const results: { name: string; ok: boolean; detail: string; wine: boolean }[] = [];

function report(name: string, ok: boolean, detail = "", wine = false): boolean {
  results.push({ name, ok, detail, wine });
  console.log(`${ok ? "PASS" : wine ? "FAIL (Wine)" : "FAIL"} ${name}${detail ? ` - ${detail}` : ""}`);
  return ok;
}

/** A failure Wine causes (a Wine 8 gap that real Windows does not have). */
class WineFault extends Error {}

/** Runs one check: a thrown error is its FAIL line; a returned string is its PASS detail. */
// biome-ignore lint/suspicious/noConfusingVoidType: a check returns a detail string or nothing
async function check(name: string, fn: () => Promise<string | void>): Promise<boolean> {
  try {
    return report(name, true, (await fn()) ?? "");
  } catch (err) {
    return report(name, false, err instanceof Error ? err.message : String(err), err instanceof WineFault);
  }
}

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await Bun.sleep(50);
  }
}

// ---------------------------------------------------------------- Wine plumbing

/** The Windows name of a Linux path (winerun maps Z: to the Linux root). */
const winPath = (p: string) => `Z:${p.replaceAll("/", "\\")}`;

/** A port free right now on 127.0.0.1 (the bot needs a fixed one: it is in its env). */
function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** This environment without our settings, so nothing of the caller's shell leaks in. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(SLACK_|CLAWDBOT_|ANTHROPIC_|RELAY_URL$|LOCALAPPDATA$)/.test(k)) env[k] = v;
  }
  return env;
}

interface Ran {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

/** One command of the exe under Wine, bounded (Wine can hang on a connect). */
async function runExe(exe: string, argv: string[], env: Record<string, string>, timeoutMs = 30_000, cwd?: string): Promise<Ran> {
  const started = performance.now();
  const p = Bun.spawn([WINERUN, exe, ...argv], { env, cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: timeoutMs, killSignal: "SIGKILL" });
  const out = collect(p.stdout);
  const err = collect(p.stderr);
  const code = await p.exited;
  // A Wine helper (conhost.exe) may inherit the pipes and hold them open: don't wait for it.
  await Promise.race([Promise.all([out.done, err.done]), Bun.sleep(2000)]);
  return { code: p.signalCode ? null : code, out: out.text(), err: err.text(), ms: Math.round(performance.now() - started) };
}

function collect(stream: ReadableStream<Uint8Array>): { done: Promise<void>; text(): string } {
  let text = "";
  const dec = new TextDecoder();
  const done = (async () => {
    for await (const chunk of stream) text += dec.decode(chunk, { stream: true });
  })().catch(() => {});
  return { done, text: () => text };
}

interface BotProc {
  proc: ReturnType<typeof Bun.spawn>;
  output(): string;
}

/** `clawdbot.exe run` in the background; its output goes to a log file as well. */
function startBot(exe: string, env: Record<string, string>, logFile: string): BotProc {
  const proc = Bun.spawn([WINERUN, exe, "run"], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      const text = dec.decode(chunk, { stream: true });
      out += text;
      Bun.write(logFile, out).catch(() => {});
    }
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  return { proc, output: () => out };
}

async function healthOf(port: number): Promise<{ status?: string } | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    return (await r.json()) as { status?: string };
  } catch {
    return null;
  }
}

async function waitHealthy(bot: BotProc, port: number, emu: SlackEmulator): Promise<void> {
  await waitFor(
    async () => {
      if (bot.proc.exitCode !== null) throw new Error(`the bot exited ${bot.proc.exitCode}: ${bot.output().slice(-1500)}`);
      return (await healthOf(port))?.status === "ok" && emu.openConnections() > 0;
    },
    "health ok and a socket",
    90_000,
  );
}

/** Run under our Wine prefix: other people's Wine runs on this machine are not ours to check or kill. */
function inOurPrefix(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`WINEPREFIX=${WINEPREFIX}`);
  } catch {
    return false;
  }
}

/** Windows processes show in Linux ps under their command line; `marker` picks ours out. */
function linuxPids(marker: RegExp): number[] {
  const ps = Bun.spawnSync(["ps", "-eo", "pid=,stat=,args="]).stdout.toString();
  return ps
    .split("\n")
    .map((l) => /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => !!m && !m[2]?.startsWith("Z") && marker.test(m[3] ?? ""))
    .map((m) => Number(m[1]))
    .filter(inOurPrefix);
}

/** Kills the Linux processes of a Wine job we left behind (cleanup only, never a check). */
function killLeftovers(marker: RegExp): void {
  for (const pid of linuxPids(marker)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}

// ---------------------------------------------------------------- Slack side

function findCard(emu: SlackEmulator, after: number): { card: EmuMessage; id: string } | undefined {
  for (const m of emu.botMessages(CH).slice(after)) {
    const id = /"value":"(ap_[0-9a-f]+)"/.exec(JSON.stringify(m.blocks ?? []))?.[1];
    if (id) return { card: m, id };
  }
  return undefined;
}

const threadText = (emu: SlackEmulator, ts: string) =>
  emu
    .botMessages(CH)
    .filter((m) => m.thread_ts === ts && m.ts !== ts)
    .map((m) => m.text)
    .join("\n");

/** `/claw exec <cmd>` typed in Slack, then approved: the card and its approval id. */
async function execApproved(emu: SlackEmulator, cmd: string): Promise<{ card: EmuMessage; id: string }> {
  const before = emu.botMessages(CH).length;
  emu.slash(USER, CH, `exec ${cmd}`);
  const c = await waitFor(() => findCard(emu, before), `the card for ${cmd}`);
  emu.click(APPROVER, CH, c.card.ts, "approval_approve", c.id);
  return c;
}

const countIn = (emu: SlackEmulator, channel: string, needle: string) => emu.botMessages(channel).filter((m) => m.text.includes(needle)).length;

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  if (!args.has("--no-build")) {
    const b = Bun.spawnSync(["bun", "build.ts"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
    if (b.exitCode !== 0) throw new Error("bun build.ts failed");
  }
  assert(existsSync(EXE), `${EXE} missing: run bun run build`);

  const tmp = mkdtempSync("/tmp/clawdbot-wine-");
  const dataDir = join(tmp, "data");
  const workDir = join(tmp, "work");
  const binDir = join(tmp, "bin");
  for (const d of [dataDir, workDir, binDir]) mkdirSync(d, { recursive: true });
  console.log(`work dir ${tmp} (Windows: ${winPath(tmp)}); bot logs in ${tmp}/*.log`);

  const emu = new SlackEmulator({});
  await emu.start();
  emu.addChannel(CH, { botMember: true });
  const port = freePort();
  const healthUrl = `http://127.0.0.1:${port}/health`;
  const settings: Record<string, string> = {
    SLACK_BOT_TOKEN: emu.options.botToken,
    SLACK_APP_TOKEN: emu.options.appToken,
    SLACK_API_URL: emu.apiUrl,
    CLAWDBOT_DATA_DIR: winPath(dataDir),
    CLAWDBOT_HEALTH_PORT: String(port),
    CLAWDBOT_APPROVERS: APPROVER,
    CLAWDBOT_EXEC_TIMEOUT: "2",
    CLAWDBOT_EXEC_CWD: winPath(workDir),
    CLAWDBOT_AGENT: "echo",
    CLAWDBOT_RECONNECT_INITIAL: "0.2",
    CLAWDBOT_RECONNECT_MAX: "2",
    CLAWDBOT_CONSOLE_LEVEL: "3",
  };
  const env = { ...cleanEnv(), ...settings };
  const bots: BotProc[] = [];
  try {
    await phaseRunning(emu, env, port, healthUrl, tmp, workDir, dataDir, bots);
    await phaseStopRestart(emu, env, settings, port, healthUrl, tmp, dataDir, binDir, bots);
    await phaseDefaultDataDir(emu, settings, port, tmp, bots);
    await phaseStartedAnywhere(tmp);
  } finally {
    for (const b of bots) if (b.proc.exitCode === null) b.proc.kill("SIGKILL");
    killLeftovers(/ping -n 3[078] 127\.0\.0\.1/);
    await emu.stop();
    const failed = results.filter((r) => !r.ok);
    const wine = failed.filter((f) => f.wine).length;
    console.log(`\n${results.length - failed.length}/${results.length} passed${failed.length ? `; ${failed.length} failed (${wine} of them Wine's): ${failed.map((f) => f.name).join("; ")}` : ""}`);
    if (failed.length === 0 && !args.has("--keep")) rmSync(tmp, { recursive: true, force: true });
    else console.log(`kept ${tmp}`);
    process.exitCode = failed.length === 0 ? 0 : failed.every((f) => f.wine) ? 3 : 1;
  }
}

/** The bot up: Slack traffic, jobs through cmd.exe, health, state dump. */
async function phaseRunning(emu: SlackEmulator, env: Record<string, string>, port: number, healthUrl: string, tmp: string, workDir: string, dataDir: string, bots: BotProc[]): Promise<void> {
  const bot = startBot(EXE, env, join(tmp, "run1.log"));
  bots.push(bot);
  const started = performance.now();
  const up = await check("run: starts, health ok, socket open", async () => {
    await waitHealthy(bot, port, emu);
    return `in ${Math.round(performance.now() - started)} ms`;
  });
  if (!up) throw new Error("the bot did not start; later checks need it");

  await check("DM answered", async () => {
    const d = emu.dm(USER, "hello from wine");
    await waitFor(() => emu.botMessages(d.channel).find((m) => m.text.includes("hello from wine")), "the DM's reply");
  });

  // In WAL mode only a checkpoint writes the database file, and the bot's own connection runs
  // one only at 1,000 WAL pages: the DM's record in the file this soon is the worker's doing.
  await check("the checkpoint worker (an entrypoint of the exe) copies commits into the database file", async () => {
    const copy = join(tmp, "checkpointed.db");
    const started = performance.now();
    await waitFor(() => {
      rmSync(copy, { force: true });
      rmSync(`${copy}-wal`, { force: true });
      rmSync(`${copy}-shm`, { force: true });
      copyFileSync(join(dataDir, "clawdbot.db"), copy);
      try {
        const db = new Database(copy);
        try {
          return db.query<{ n: number }, []>("SELECT count(*) AS n FROM events WHERE payload LIKE '%hello from wine%'").get()?.n;
        } finally {
          db.close();
        }
      } catch {
        return 0; // a copy taken mid-checkpoint: the next try
      }
    }, "the DM's record in clawdbot.db itself", 10_000);
    return `in ${Math.round(performance.now() - started)} ms after the answer`;
  });

  await check("mention answered in its thread", async () => {
    const m = emu.mention(USER, CH, "mention from wine");
    const r = await waitFor(() => emu.botMessages(CH).find((x) => x.text.includes("mention from wine")), "the mention's reply");
    assert(r.thread_ts === m.ts, `reply thread_ts ${r.thread_ts}, expected ${m.ts}`);
  });

  await check("exec `echo a && echo b > f` runs as typed in cmd.exe (f holds b, output a)", async () => {
    const { card, id } = await execApproved(emu, "echo a && echo b > f");
    const text = await waitFor(() => (/exit \d+/.test(threadText(emu, card.ts)) ? threadText(emu, card.ts) : ""), `the result of ${id}`);
    assert(/exit 0/.test(text), `result: ${text}`);
    const block = /```\n([\s\S]*?)\n?```/.exec(text)?.[1] ?? "";
    assert(block.split(/\r?\n/).some((l) => l.trim() === "a"), `output lacks a line "a": ${text}`);
    const f = join(workDir, "f");
    assert(existsSync(f), `no file f in ${winPath(workDir)} (CLAWDBOT_EXEC_CWD)`);
    const content = readFileSync(f, "utf8");
    assert(content.trim() === "b", `f holds ${JSON.stringify(content)}`);
    return `f=${JSON.stringify(content)}`;
  });

  await check('exec keeps inner quotes and & inside them: echo "x & y" > q', async () => {
    const { card } = await execApproved(emu, 'echo "x & y" > q');
    await waitFor(() => /exit \d+/.test(threadText(emu, card.ts)), "the result");
    const q = join(workDir, "q");
    assert(existsSync(q), `no file q: ${threadText(emu, card.ts)}`);
    const content = readFileSync(q, "utf8");
    assert(content.trim() === '"x & y"', `q holds ${JSON.stringify(content)}`);
  });

  await check("exec of a multi-line command is refused before any card, with a reason; nothing runs", async () => {
    // cmd.exe would run only its first line, so no card is shown for it (core/approvals).
    const before = emu.botMessages(CH).length;
    emu.slash(USER, CH, "exec echo one > m1\necho two > m2");
    const refusal = await waitFor(() => emu.messages().find((m) => m.channel === CH && m.text.includes("can't run that command here")), "the refusal");
    assert(refusal.text.includes("first line"), `no reason given: ${refusal.text}`);
    assert(!findCard(emu, before), "a card was posted for a command that cannot run as shown");
    assert(!existsSync(join(workDir, "m1")) && !existsSync(join(workDir, "m2")), `ran (m1 ${existsSync(join(workDir, "m1"))}, m2 ${existsSync(join(workDir, "m2"))})`);
    return refusal.text.replace(/\s+/g, " ").slice(0, 120);
  });

  await check("exec timeout (2 s): `ping -n 30` killed with its tree (Job Object)", async () => {
    const marker = /ping -n 30 127\.0\.0\.1/;
    const { card } = await execApproved(emu, "ping -n 30 127.0.0.1 >nul");
    await waitFor(() => linuxPids(marker).length > 0, "ping.exe running", 15_000);
    const text = await waitFor(() => (/timed out|exit \d+/.test(threadText(emu, card.ts)) ? threadText(emu, card.ts) : ""), "the result", 30_000);
    assert(text.includes("timed out"), `result: ${text}`);
    await waitFor(() => linuxPids(marker).length === 0, "ping.exe gone after the timeout", 5_000).catch(() => {
      throw new Error(`ping.exe still runs after "${text.split("\n")[0]}" (pids ${linuxPids(marker).join(",")})`);
    });
    // With the Job Object (src/jobs/job-object.ts) the kill is verified; without it taskkill is named.
    assert(text.includes("process tree killed"), `the result does not say the tree was killed: ${text.split("\n")[0]}`);
    return text.split("\n")[0];
  });

  await check("exec leaving `start /b ping -n 38` behind: killed when the job ends, and said", async () => {
    const marker = /ping -n 38 127\.0\.0\.1/;
    const { card } = await execApproved(emu, "start /b ping -n 38 127.0.0.1 >nul & echo started");
    const text = await waitFor(() => (/exit \d+/.test(threadText(emu, card.ts)) ? threadText(emu, card.ts) : ""), "the result", 30_000);
    await waitFor(() => linuxPids(marker).length === 0, "ping.exe gone after the job ended", 5_000).catch(() => {
      throw new Error(`ping.exe still runs after "${text.split("\n")[0]}"`);
    });
    assert(/background process(es)? it left killed/.test(text), `result: ${text.split("\n")[0]}`);
    return text.split("\n")[0];
  });

  await check("exec `set`: only the allowlisted variables (no SLACK_*, CLAWDBOT_*, ANTHROPIC_*)", async () => {
    const { card } = await execApproved(emu, "set");
    const text = await waitFor(() => (/exit \d+/.test(threadText(emu, card.ts)) ? threadText(emu, card.ts) : ""), "the result", 30_000);
    const names = [...text.matchAll(/^([A-Za-z_][^=\n]*)=/gm)].map((m) => m[1] ?? "");
    // WINE*: Wine's loader adds WINECONFIGDIR, WINELOADER and the like to every process it starts.
    const leaked = names.filter((n) => /^(SLACK_|CLAWDBOT_|ANTHROPIC_)/i.test(n));
    assert(names.some((n) => n.toUpperCase() === "PATH"), `no PATH in: ${text.slice(0, 300)}`);
    assert(leaked.length === 0, `leaked: ${leaked.join(", ")}`);
    return names.join(",");
  });

  await check("health --url exits 0 with the bot up", async () => {
    const r = await runExe(EXE, ["health", "--url", healthUrl], env);
    assert(r.code === 0 && r.out.startsWith("OK"), `exit ${r.code}: ${r.out}${r.err}`);
    return `${r.ms} ms: ${r.out.trim().slice(0, 60)}`;
  });

  await check("health (port from CLAWDBOT_HEALTH_PORT) exits 0", async () => {
    const r = await runExe(EXE, ["health"], env);
    assert(r.code === 0, `exit ${r.code}: ${r.out}${r.err}`);
  });

  await check("state dump --json while run runs", async () => {
    const r = await runExe(EXE, ["state", "dump", "--json"], env);
    assert(r.code === 0, `exit ${r.code}: ${r.err}`);
    const d = JSON.parse(r.out) as { paused: boolean; approvals: { status: string }[]; events: Record<string, number>; db: string };
    const statuses = d.approvals.map((a) => a.status).sort();
    // The three exec jobs above that got a card (the multi-line one is refused before any).
    assert(d.approvals.length >= 3, `approvals: ${statuses.join(",")}`);
    assert(d.db.toLowerCase().startsWith(env.CLAWDBOT_DATA_DIR?.toLowerCase() ?? "?"), `db ${d.db}`);
    return `${r.ms} ms; approvals ${statuses.join(",")}; events ${JSON.stringify(d.events)}`;
  });

  await check("state dump (text) while run runs", async () => {
    const r = await runExe(EXE, ["state", "dump"], env);
    assert(r.code === 0 && r.out.includes("Approvals"), `exit ${r.code}: ${r.out.slice(0, 200)}${r.err}`);
  });
}

/** Stop the bot as Wine can (a signal to the wine process), look at the store, restart. */
async function phaseStopRestart(
  emu: SlackEmulator,
  env: Record<string, string>,
  settings: Record<string, string>,
  port: number,
  healthUrl: string,
  tmp: string,
  dataDir: string,
  binDir: string,
  bots: BotProc[],
): Promise<void> {
  const bot = bots[bots.length - 1];
  assert(bot, "no bot");
  const marker = /ping -n 37 127\.0\.0\.1/;
  let runningId = "";
  let runningCardTs = "";
  await check("a job is running when the bot is stopped", async () => {
    const { card, id } = await execApproved(emu, "ping -n 37 127.0.0.1 >nul");
    runningId = id;
    runningCardTs = card.ts;
    await waitFor(() => linuxPids(marker).length > 0, "ping.exe running", 15_000);
  });

  await check("SIGTERM to the wine process: what the bot sees", async () => {
    const before = bot.output().length;
    bot.proc.kill("SIGTERM");
    const graceful = await Promise.race([bot.proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
    if (!graceful) bot.proc.kill("SIGKILL");
    await bot.proc.exited;
    const said = bot.output().slice(before);
    const saw = /SIGTERM received/.test(said) ? "logged SIGTERM and stopped" : "nothing: ended at once, no log line (WINE NOTE: like TerminateProcess)";
    return `exit ${bot.proc.exitCode ?? bot.proc.signalCode}; the bot saw ${saw}`;
  });

  await check("health of the stopped bot exits 2", async () => {
    const r = await runExe(EXE, ["health", "--url", healthUrl], env, 30_000);
    assert(r.code === 2, `exit ${r.code}: ${r.out}${r.err}`);
    const wine = r.out.includes("timeout") ? " (WINE NOTE: a closed port hangs under Wine, so it is a timeout, not unreachable)" : "";
    return `${r.ms} ms: ${r.out.trim()}${wine}`;
  });

  await check("store intact after the kill (integrity_check, state dump)", async () => {
    const r = await runExe(EXE, ["state", "dump", "--json"], env);
    assert(r.code === 0, `state dump exit ${r.code}: ${r.err}`);
    const d = JSON.parse(r.out) as { approvals: { id: string; status: string }[] };
    const job = d.approvals.find((a) => a.id === runningId);
    const db = new Database(join(dataDir, "clawdbot.db"), { readonly: true });
    try {
      const ic = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check;
      assert(ic === "ok", `integrity_check: ${ic}`);
    } finally {
      db.close();
    }
    return `integrity ok; the killed job is ${job?.status ?? "missing"}`;
  });

  // The job's Job Object is KILL_ON_JOB_CLOSE and only the bot holds it: the tree ends with the
  // bot (libuv's own job would take cmd.exe only: its children may break away).
  await check("the killed bot's job (cmd.exe and its ping.exe) ended with the bot", async () => {
    await waitFor(() => linuxPids(marker).length === 0, "ping.exe gone", 10_000).catch(() => {
      const wine = Bun.spawnSync(["ps", "-eo", "pid=,ppid=,stat=,args="]).stdout.toString().split("\n").filter((l) => /cmd\.exe|ping|clawdbot|conhost/i.test(l));
      throw new Error(`ping.exe still runs (pids ${linuxPids(marker).join(",")}); ${wine.join(" | ")}`);
    });
  });

  const dmWhileDown = emu.dm(USER, "sent while the bot was down");

  // The restart runs a copy of the exe with its whole configuration in clawdbot.env beside it.
  const exe2 = join(binDir, "clawdbot.exe");
  try {
    linkSync(EXE, exe2);
  } catch {
    copyFileSync(EXE, exe2);
  }
  writeFileSync(join(binDir, "clawdbot.env"), Object.entries(settings).map(([k, v]) => `${k}=${v}`).join("\r\n") + "\r\n");
  const bot2 = startBot(exe2, cleanEnv(), join(tmp, "run2.log"));
  bots.push(bot2);

  await check("restart with only clawdbot.env beside the exe: starts", async () => {
    await waitHealthy(bot2, port, emu);
  });

  await check("restart: the DM sent while down is answered once", async () => {
    await waitFor(() => countIn(emu, dmWhileDown.channel, "sent while the bot was down") > 0, "its answer");
    await Bun.sleep(1500); // a second answer would come right behind the first
    const n = countIn(emu, dmWhileDown.channel, "sent while the bot was down");
    assert(n === 1, `answered ${n} times`);
  });

  await check("restart: the running job is reported interrupted, its process stopped", async () => {
    const text = await waitFor(() => (/interrupted/.test(threadText(emu, runningCardTs)) ? threadText(emu, runningCardTs) : ""), "the interrupted note");
    await waitFor(() => linuxPids(marker).length === 0, "ping.exe gone", 10_000).catch(() => {
      throw new Error(`ping.exe still runs after: ${text}`);
    });
    return text.split("\n").find((l) => l.includes("interrupted"))?.slice(0, 140);
  });

  await check("state dump reads clawdbot.env beside the exe", async () => {
    const r = await runExe(exe2, ["state", "dump", "--json"], cleanEnv());
    assert(r.code === 0, `exit ${r.code}: ${r.err}`);
    const d = JSON.parse(r.out) as { db: string; approvals: { id: string; status: string }[] };
    assert(d.db.toLowerCase().startsWith(winPath(dataDir).toLowerCase()), `db ${d.db}`);
    const job = d.approvals.find((a) => a.id === runningId);
    assert(job?.status === "interrupted", `the killed job is ${job?.status}`);
  });

  await check("health reads CLAWDBOT_HEALTH_PORT from clawdbot.env", async () => {
    const r = await runExe(exe2, ["health"], cleanEnv());
    assert(r.code === 0, `exit ${r.code}: ${r.out}${r.err}`);
  });

  bot2.proc.kill("SIGKILL");
  await bot2.proc.exited;
}

/** Without CLAWDBOT_DATA_DIR the store goes to %LOCALAPPDATA%\clawdbot. */
async function phaseDefaultDataDir(emu: SlackEmulator, settings: Record<string, string>, port: number, tmp: string, bots: BotProc[]): Promise<void> {
  const env = { ...cleanEnv(), ...settings };
  delete env.CLAWDBOT_DATA_DIR;
  const la = await runExe("cmd.exe", ["/d", "/c", "echo %LOCALAPPDATA%"], cleanEnv());
  const local = la.out.trim();
  const linuxDir = /^C:\\/i.test(local) ? join(WINEPREFIX, "drive_c", local.slice(3).replaceAll("\\", "/"), "clawdbot") : "";
  const existed = linuxDir !== "" && existsSync(linuxDir);
  const bot = startBot(EXE, env, join(tmp, "run3.log"));
  bots.push(bot);
  try {
    await check("default data dir %LOCALAPPDATA%\\clawdbot", async () => {
      assert(linuxDir, `LOCALAPPDATA under Wine is ${JSON.stringify(local)}`);
      await waitHealthy(bot, port, emu);
      assert(existsSync(join(linuxDir, "clawdbot.db")), `no clawdbot.db in ${linuxDir}`);
      const r = await runExe(EXE, ["state", "dump", "--json"], env);
      assert(r.code === 0, `state dump exit ${r.code}: ${r.err}`);
      const db = (JSON.parse(r.out) as { db: string }).db;
      assert(db.toLowerCase() === `${local}\\clawdbot\\clawdbot.db`.toLowerCase(), `state dump reads ${db}`);
      return db;
    });
  } finally {
    bot.proc.kill("SIGKILL");
    await bot.proc.exited;
    if (!existed && linuxDir) rmSync(linuxDir, { recursive: true, force: true });
  }
}

/** What does not need the bot: a folder it is started in, and the Task Scheduler definition. */
async function phaseStartedAnywhere(tmp: string): Promise<void> {
  // Task Scheduler may start the exe in any folder: a .env or a bunfig.toml (whose preload
  // runs code) planted there must be ignored (test/security/no-autoload.test.ts on Linux).
  await check("a .env and a bunfig.toml preload in the working folder are ignored", async () => {
    const cwd = join(tmp, "start-here");
    const planted = join(tmp, "planted-data");
    mkdirSync(cwd, { recursive: true });
    const marker = join(cwd, "PWNED");
    writeFileSync(join(cwd, "evil.js"), `require("fs").writeFileSync(${JSON.stringify(winPath(marker))}, "ran");\n`);
    writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./evil.js"]\n');
    writeFileSync(join(cwd, ".env"), `CLAWDBOT_DATA_DIR=${winPath(planted)}\n`);
    const version = await runExe(EXE, ["--version"], cleanEnv(), 30_000, cwd);
    assert(version.code === 0, `--version exit ${version.code}: ${version.err}`);
    const dump = await runExe(EXE, ["state", "dump", "--json"], cleanEnv(), 30_000, cwd);
    assert(!`${dump.out}${dump.err}`.includes("planted-data"), `state dump read the planted .env: ${dump.out}${dump.err}`);
    assert(!existsSync(marker), "the planted preload ran");
    return `--version ${version.out.trim()}; state dump did not look in the planted data dir`;
  });

  // Registering needs an elevated prompt (not checked here: Wine's schtasks accepts /Create /XML
  // but keeps neither its triggers nor its principal, and /Run and /End do nothing).
  await check("task print --platform windows: both task definitions, as the exe would register them", async () => {
    const r = await runExe(EXE, ["task", "print", "--platform", "windows"], cleanEnv());
    assert(r.code === 0, `exit ${r.code}: ${r.err}`);
    for (const needle of ["<BootTrigger>", "<LogonType>S4U</LogonType>", "clawdbot-watchdog", "health", "<Command>"]) assert(r.out.includes(needle), `no ${needle} in: ${r.out.slice(0, 400)}`);
    return `${r.out.split("\n").length} lines`;
  });
}

await main();
// Wine helpers (conhost.exe) can hold our pipes open after everything ended: leave anyway.
process.exit(process.exitCode ?? 0);
