// Run by hand: `bun bench/throughput.ts [--events 2000] [--channels 50] [--rounds 2]
// [--paced 1000] [--rate 200] [--memory 10000] [--only NAME] [--profile DIR] [--bin NAME=PATH ...]`.
//
// clawdbot (dist/clawdbot run: echo agent, durable store and outbox, production console
// level) against a raw @slack/bolt echo app (bench/bolt-echo.ts, compiled here with
// `bun build --compile` into a temp dir), both their own process, each round on a fresh
// emulator in this process. The emulator's cost (Web API, envelopes, the socket proxy) is
// the same for both, and on a 2-core machine it runs beside the bot, not on its core.
// Per contender and round, in this order (rounds interleaved ABBA so drift hits both alike):
//  1. warm-up: one DM per channel, all answered, then no Web API call from the bot for 500 ms
//     (its start-up catch-up over: a cost per connection, not per event);
//  2. burst: `--events` DMs over `--channels` DM channels sent at once; events/s from the
//     first send to the last reply;
//  3. paced: `--paced` DMs at `--rate` events/s; ack latency (envelope sent → ack, as the
//     emulator clocks it, in ms) of those.
// Then (unless --memory 0) RSS after 1k and after `--memory` answered DMs, per contender.
// Every reply is counted per message: a lost or doubled answer is reported. Loopback only.
// --bin NAME=PATH (repeatable) measures other clawdbot builds in the same run, instead of
// dist/clawdbot (a before/after of a change: build it from each commit).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SlackEmulator } from "../src/emulator/index.ts";
import { botEnv, cleanup, ensureBinary, ROOT, tempDir } from "../test/helpers/bot.ts";
import { pct } from "./burst.ts";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
function argText(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const EVENTS = arg("events", 2000);
const CHANNELS = arg("channels", 50);
const ROUNDS = arg("rounds", 2);
const PACED = arg("paced", 1000);
const RATE = arg("rate", 200);
const MEMORY = arg("memory", 10_000);
const ONLY = argText("only");
const PROFILE_DIR = argText("profile");

const user = (i: number) => `U0TP${String(i % CHANNELS).padStart(4, "0")}`;
const TAG_RE = /tp(\d+)x/;

interface Contender {
  name: string;
  /** Starts the bot against `emu`; resolves once it is connected. */
  spawn(emu: SlackEmulator, dataDir: string): ReturnType<typeof Bun.spawn>;
}

interface RoundResult {
  eventsPerS: number;
  burstMs: number;
  /** The bot's CPU time per event, burst and paced. */
  burstCpuMs: number;
  pacedCpuMs: number;
  /** This process's (the emulator's) CPU time per event in the burst. */
  emulatorCpuMs: number;
  burstAckP50: number;
  burstAckP99: number;
  pacedAckP50: number;
  pacedAckP99: number;
  pacedAckMax: number;
  lost: number;
  doubled: number;
  redelivered: number;
}


/** CPU time (user + system) the process used so far, in ms (Linux: /proc, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Counts echo replies per message number; `done()` resolves once every number in [from, to) has one. */
class Ledger {
  private readonly answers = new Map<number, number>();
  private waiting: { from: number; to: number; resolve: (at: number) => void } | null = null;
  private missing = 0;

  constructor(emu: SlackEmulator) {
    emu.onMessage((m, change) => {
      if (change !== "new" || m.bot_id !== emu.options.botId) return;
      const hit = TAG_RE.exec(m.text);
      if (!hit) return;
      const n = Number(hit[1]);
      const was = this.answers.get(n) ?? 0;
      this.answers.set(n, was + 1);
      const w = this.waiting;
      if (w && was === 0 && n >= w.from && n < w.to && --this.missing === 0) {
        this.waiting = null;
        w.resolve(performance.now());
      }
    });
  }

  /** Resolves to the time the last reply of [from, to) arrived (at most `timeoutMs`, else rejects). */
  done(from: number, to: number, timeoutMs = 120_000): Promise<number> {
    this.missing = 0;
    for (let n = from; n < to; n++) if (!this.answers.get(n)) this.missing++;
    if (this.missing === 0) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.missing} of ${to - from} not answered in ${timeoutMs} ms`)), timeoutMs);
      this.waiting = {
        from,
        to,
        resolve: (at) => {
          clearTimeout(t);
          resolve(at);
        },
      };
    });
  }

  faults(from: number, to: number): { lost: number; doubled: number } {
    let lost = 0;
    let doubled = 0;
    for (let n = from; n < to; n++) {
      const c = this.answers.get(n) ?? 0;
      if (c === 0) lost++;
      else if (c > 1) doubled++;
    }
    return { lost, doubled };
  }
}

/** Sends DMs numbered [from, to), all at once (rate 0) or paced; returns their envelope ids. */
async function send(emu: SlackEmulator, from: number, to: number, rate = 0): Promise<string[]> {
  const ids: string[] = [];
  const t0 = performance.now();
  for (let n = from; n < to; n++) {
    if (rate > 0) {
      const wait = t0 + ((n - from) * 1000) / rate - performance.now();
      if (wait > 0.5) await Bun.sleep(wait);
    }
    ids.push(emu.dm(user(n), `bench tp${n}x`).envelope_id);
  }
  return ids;
}

/** Resolves once the bot has made no Web API call for `quietMs` (the emulator's clock is Date.now()). */
async function quiet(emu: SlackEmulator, quietMs = 500, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = emu.calls[emu.calls.length - 1]?.at ?? 0;
    if (Date.now() - last >= quietMs) return;
    if (Date.now() > deadline) throw new Error(`the bot kept calling Slack for ${timeoutMs} ms after the warm-up`);
    await Bun.sleep(50);
  }
}

function ackMs(emu: SlackEmulator, ids: string[]): number[] {
  const want = new Set(ids);
  return emu.envelopes
    .filter((e) => want.has(e.envelope_id) && e.acked && e.attempts.length)
    .map((e) => (e.acked?.at ?? 0) - (e.attempts[0]?.at ?? 0));
}

async function stopProc(p: ReturnType<typeof Bun.spawn>): Promise<void> {
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill(9), 10_000);
  await p.exited;
  clearTimeout(t);
}

async function withBot<T>(c: Contender, fn: (emu: SlackEmulator, ledger: Ledger, pid: number) => Promise<T>): Promise<T> {
  const emu = new SlackEmulator({ pingIntervalMs: 0 });
  await emu.start();
  const dir = tempDir("clawdbot-throughput-");
  const ledger = new Ledger(emu);
  const proc = c.spawn(emu, dir);
  try {
    await emu.waitFor(() => emu.openConnections() === 1 || proc.exitCode !== null, { timeoutMs: 30_000, what: `${c.name} connected` });
    if (proc.exitCode !== null) throw new Error(`${c.name} exited ${proc.exitCode}`);
    return await fn(emu, ledger, proc.pid);
  } finally {
    await stopProc(proc);
    await emu.stop();
    cleanup(dir);
  }
}

async function round(c: Contender): Promise<RoundResult> {
  return withBot(c, async (emu, ledger, pid) => {
    let n = 0;
    // Warm-up: every DM channel opened, the JIT warm, and what a start does once over (the
    // catch-up after connecting reads each conversation's history and checks every message
    // in it against the store: in a burst, that was 39 reads and ~1,600 dedupe checks).
    await send(emu, n, n + CHANNELS);
    await ledger.done(n, n + CHANNELS, 30_000);
    await quiet(emu);
    n += CHANNELS;

    const burstFrom = n;
    const before = emu.envelopes.length;
    const cpu0 = cpuMs(pid);
    const emu0 = process.cpuUsage();
    const t0 = performance.now();
    const burstIds = await send(emu, n, n + EVENTS);
    const last = await ledger.done(n, n + EVENTS);
    const burstMs = last - t0;
    const cpu1 = cpuMs(pid);
    const emu1 = process.cpuUsage(emu0);
    n += EVENTS;
    const burstAcks = ackMs(emu, burstIds);

    const pacedIds = await send(emu, n, n + PACED, RATE);
    await ledger.done(n, n + PACED);
    const cpu2 = cpuMs(pid);
    const pacedAcks = ackMs(emu, pacedIds);
    n += PACED;
    // A late duplicate would show in this time.
    await Bun.sleep(300);
    const { lost, doubled } = ledger.faults(burstFrom - CHANNELS, n);
    return {
      eventsPerS: (EVENTS / burstMs) * 1000,
      burstMs,
      burstCpuMs: (cpu1 - cpu0) / EVENTS,
      pacedCpuMs: (cpu2 - cpu1) / PACED,
      emulatorCpuMs: (emu1.user + emu1.system) / 1000 / EVENTS,
      burstAckP50: pct(burstAcks, 50),
      burstAckP99: pct(burstAcks, 99),
      pacedAckP50: pct(pacedAcks, 50),
      pacedAckP99: pct(pacedAcks, 99),
      pacedAckMax: Math.max(...pacedAcks),
      lost,
      doubled,
      redelivered: emu.envelopes.slice(before).filter((e) => e.attempts.length > 1).length,
    };
  });
}

/** RSS after 1k answered DMs and after `total`, sent in bursts of 500 (each answered before the next). */
async function memory(c: Contender, total: number): Promise<{ at1k: number; atEnd: number; series: number[] }> {
  return withBot(c, async (emu, ledger, pid) => {
    const settle = async () => {
      await Bun.sleep(1000);
      return rssMb(pid);
    };
    const series: number[] = [];
    for (let n = 0; n < total; n += 500) {
      await send(emu, n, Math.min(total, n + 500));
      await ledger.done(n, Math.min(total, n + 500));
      if ((n + 500) % 1000 === 0) series.push(await settle());
    }
    return { at1k: series[0] ?? NaN, atEnd: series[series.length - 1] ?? NaN, series };
  });
}

async function compileBolt(dir: string): Promise<string> {
  const exe = join(dir, "bolt-echo");
  const p = Bun.spawn([process.execPath, "build", "--compile", join(ROOT, "bench", "bolt-echo.ts"), "--outfile", exe], {
    stdout: "ignore",
    stderr: "pipe",
  });
  if ((await p.exited) !== 0) throw new Error(`bolt echo build failed: ${await new Response(p.stderr).text()}`);
  return exe;
}

const baseEnv = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" });
/** With --profile DIR: Bun's CPU profile (markdown) of each bot process, in DIR/<name>. */
const profileEnv = (name: string): Record<string, string> =>
  PROFILE_DIR ? { BUN_OPTIONS: `--cpu-prof-md --cpu-prof-dir=${join(PROFILE_DIR, name)} --cpu-prof-interval=200` } : {};

const builds = clawdbotBuilds();
if (builds.length === 0) builds.push({ name: "clawdbot", bin: await ensureBinary() });
const buildDir = tempDir("clawdbot-throughput-build-");
const boltBin = await compileBolt(buildDir);

/** clawdbot builds to measure: `--bin NAME=PATH`, repeatable; dist/clawdbot by default. */
function clawdbotBuilds(): { name: string; bin: string }[] {
  const out: { name: string; bin: string }[] = [];
  for (let i = 0; i < process.argv.length; i++) {
    if (process.argv[i] !== "--bin") continue;
    const [name, bin] = (process.argv[i + 1] ?? "").split("=");
    if (name && bin) out.push({ name, bin });
  }
  return out;
}

const clawdbot = (name: string, bin: string): Contender => ({
  name,
  spawn: (emu, dir) =>
    Bun.spawn([bin, "run"], {
      env: {
        ...baseEnv(),
        ...botEnv(emu, dir),
        // What an operator runs: info lines on the console and in the log store.
        CLAWDBOT_CONSOLE_LEVEL: "3",
        ...profileEnv(name),
      },
      stdout: "ignore",
      stderr: "inherit",
    }),
});
const bolt: Contender = {
  name: "raw bolt",
  spawn: (emu) =>
    Bun.spawn([boltBin], {
      env: {
        ...baseEnv(),
        SLACK_BOT_TOKEN: emu.options.botToken,
        SLACK_APP_TOKEN: emu.options.appToken,
        SLACK_API_URL: emu.apiUrl,
        ...profileEnv("bolt"),
      },
      stdout: "ignore",
      stderr: "inherit",
    }),
};
const contenders = [bolt, ...builds.map((b) => clawdbot(b.name, b.bin))].filter((c) => !ONLY || c.name.includes(ONLY));

const results = new Map<string, RoundResult[]>(contenders.map((c) => [c.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? contenders : [...contenders].reverse();
  for (const c of order) {
    const res = await round(c);
    results.get(c.name)?.push(res);
    console.log(
      `round ${r + 1} ${c.name.padEnd(9)} ${res.eventsPerS.toFixed(0).padStart(5)} events/s (${EVENTS} in ${res.burstMs.toFixed(0)} ms; ack p50 ${res.burstAckP50} p99 ${res.burstAckP99} ms; CPU ${res.burstCpuMs.toFixed(2)} ms/event, emulator ${res.emulatorCpuMs.toFixed(2)}) · ` +
        `paced ${RATE}/s ack p50 ${res.pacedAckP50} p99 ${res.pacedAckP99} max ${res.pacedAckMax} ms (CPU ${res.pacedCpuMs.toFixed(2)} ms/event) · lost ${res.lost} doubled ${res.doubled} redelivered ${res.redelivered}`,
    );
  }
}

const boltRounds = results.get(bolt.name) ?? [];
const median = (xs: number[]) => pct(xs, 50);
const perRound = (xs: number[], f: (x: number) => string) => `${xs.map(f).join(" / ")} (median ${f(median(xs))})`;
console.log(`\n${EVENTS} DMs over ${CHANNELS} DM channels, echo agent; paced: ${PACED} DMs at ${RATE}/s; ${ROUNDS} rounds, interleaved`);
console.log("| | events/s per round | ratio to raw bolt (same round) | ack p99 at 200/s | ack p99 − bolt's (same round) | CPU per event, burst / paced (median) |");
console.log("|---|---|---|---|---|---|");
for (const c of contenders) {
  const rs = results.get(c.name) ?? [];
  const ratios = rs.flatMap((x, i) => (boltRounds[i] ? [x.eventsPerS / boltRounds[i].eventsPerS] : []));
  const ackDiffs = rs.flatMap((x, i) => (boltRounds[i] ? [x.pacedAckP99 - boltRounds[i].pacedAckP99] : []));
  console.log(
    `| ${c.name} | ${perRound(rs.map((x) => x.eventsPerS), (x) => x.toFixed(0))} | ${perRound(ratios, (x) => x.toFixed(2))} | ` +
      `${perRound(rs.map((x) => x.pacedAckP99), (x) => `${x} ms`)} | ${perRound(ackDiffs, (x) => `${x >= 0 ? "+" : ""}${x} ms`)} | ` +
      `${median(rs.map((x) => x.burstCpuMs)).toFixed(2)} / ${median(rs.map((x) => x.pacedCpuMs)).toFixed(2)} ms |`,
  );
}

if (MEMORY > 0) {
  console.log(`\nRSS after 1,000 and after ${MEMORY} answered DMs (bursts of 500):`);
  for (const c of contenders) {
    const m = await memory(c, MEMORY);
    console.log(`  ${c.name.padEnd(9)} ${m.at1k.toFixed(1)} MB → ${m.atEnd.toFixed(1)} MB (growth ${(m.atEnd - m.at1k).toFixed(1)} MB; per 1k: ${m.series.map((x) => x.toFixed(0)).join(" ")})`);
  }
}
cleanup(buildDir);
process.exit(0);
