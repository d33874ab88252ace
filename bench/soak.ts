// Run by hand: `bun bench/soak.ts [--minutes N] [--rate MSG_PER_S] [--kill-every S]`.
// Seed 4.3: the compiled bot (dist/clawdbot run, its own data dir, a 1 MB log budget) under
// a steady load of DMs and mentions from the in-process emulator, with faults on a schedule
// (dropSockets every ~20 s, one blackhole, a 429 burst in one channel, kill -9 + restart
// every ~60 s). At the end the load stops, every message must be answered exactly once,
// and the bot's RSS, store size, log rows and health are printed. Loopback only.
import { Database } from "bun:sqlite";
import { readFileSync, statSync } from "node:fs";
import { SlackEmulator } from "../src/emulator/index.ts";
import { storeLocation } from "../src/store/index.ts";
import { botEnv, cleanup, ensureBinary, tempDir } from "../test/helpers/bot.ts";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const MINUTES = arg("minutes", 4);
const RATE = arg("rate", 30);
const KILL_EVERY_S = arg("kill-every", 60);
const USERS = 40;
const CHANNELS = ["C0SOAK01", "C0SOAK02", "C0SOAK03", "C0SOAK04"];
const RATE_LIMITED = CHANNELS[0]!;
const MENTION_SHARE = 0.3;

// ---- the bot process ----------------------------------------------------------------

interface Lifetime {
  n: number;
  pid: number;
  startedAt: number;
  endedBy?: string;
  rssKb: number[];
}

interface Bot {
  proc: ReturnType<typeof Bun.spawn>;
  life: Lifetime;
  healthPort: number;
  tail(): string;
}

/** Like spawnBot, but keeps only the output's tail. Level 4: debug lines are stored too, so the log budget is exercised. */
async function spawn(bin: string, env: Record<string, string>, n: number): Promise<Bot> {
  const proc = Bun.spawn([bin, "run"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env, CLAWDBOT_CONSOLE_LEVEL: "4" },
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let port = 0;
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      out = (out + dec.decode(chunk, { stream: true })).slice(-20_000);
      port ||= Number(/health on http:\/\/[^:]+:(\d+)\/health/.exec(out)?.[1] ?? 0);
    }
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  const deadline = Date.now() + 20_000;
  while (!port) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`bot did not start: ${out}`);
    await Bun.sleep(10);
  }
  return { proc, healthPort: port, tail: () => out, life: { n, pid: proc.pid, startedAt: Date.now(), rssKb: [] } };
}

function rssKb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

async function health(port: number): Promise<Record<string, unknown> | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    return (await r.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

// ---- load and accounting -------------------------------------------------------------

const tag = (i: number) => `sk${String(i).padStart(6, "0")}z`;
const TAG_RE = /sk(\d{6})z/;

interface Sent {
  at: number;
  channel: string;
  ts: string;
  kind: "dm" | "mention";
  envelopes: string[];
}

interface Ledger {
  sent: number;
  answers: Uint16Array;
  /** What was sent, for the diagnosis of a lost or duplicated message. */
  meta: Sent[];
}

/** Counts every bot message that carries a load tag, per tag (new messages only). */
function account(emu: SlackEmulator, ledger: Ledger): () => void {
  return emu.onMessage((m, change) => {
    if (change !== "new" || m.bot_id !== emu.options.botId) return;
    const hit = TAG_RE.exec(m.text);
    if (hit) ledger.answers[Number(hit[1])]!++;
  });
}

/** Sends RATE messages/s in 100 ms ticks: DMs, and mentions in the soak channels. */
function startLoad(emu: SlackEmulator, ledger: Ledger): () => void {
  let carry = 0;
  const timer = setInterval(() => {
    carry += RATE / 10;
    for (; carry >= 1; carry--) {
      const i = ledger.sent++;
      const user = `U0SOAK${String(i % USERS).padStart(3, "0")}`;
      const text = `load ${tag(i)} from ${user}`;
      if (Math.random() < MENTION_SHARE) {
        const d = emu.mention(user, CHANNELS[i % CHANNELS.length]!, text);
        ledger.meta[i] = { at: Date.now(), channel: d.channel, ts: d.ts, kind: "mention", envelopes: [d.message_envelope_id, d.envelope_id] };
      } else {
        const d = emu.dm(user, text);
        ledger.meta[i] = { at: Date.now(), channel: d.channel, ts: d.ts, kind: "dm", envelopes: [d.envelope_id] };
      }
    }
  }, 100);
  return () => clearInterval(timer);
}

// ---- samples --------------------------------------------------------------------------

interface Sample {
  t: number;
  life: number;
  rssKb?: number;
  dbBytes: number;
  walBytes: number;
  status?: unknown;
  outboxPending?: unknown;
  sent: number;
  answered: number;
}

function answeredCount(l: Ledger): number {
  let n = 0;
  for (let i = 0; i < l.sent; i++) if (l.answers[i]! > 0) n++;
  return n;
}

function stats(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? NaN, median: s[Math.floor(s.length / 2)] ?? NaN, max: s[s.length - 1] ?? NaN };
}

const mb = (b: number) => (b / 2 ** 20).toFixed(2);

// ---- the run ------------------------------------------------------------------------

async function main(): Promise<void> {
  const bin = await ensureBinary();
  // Pings keep a quiet socket alive; a short ack timeout brings unacked envelopes back soon after a kill.
  const emu = new SlackEmulator({ pingIntervalMs: 1000, ackTimeoutMs: 1000 });
  await emu.start();
  for (const c of CHANNELS) emu.addChannel(c, { botMember: true });
  const dir = tempDir("clawdbot-soak-");
  const dbPath = storeLocation({ dataDir: dir });
  const env = botEnv(emu, dir, { CLAWDBOT_LOG_RETENTION_MB: "1", CLAWDBOT_LIVENESS_TIMEOUT: "3" });
  const ledger: Ledger = { sent: 0, answers: new Uint16Array(Math.ceil(RATE * MINUTES * 60 * 1.2) + 1000), meta: [] };
  const unsubscribe = account(emu, ledger);
  const lives: Lifetime[] = [];
  const samples: Sample[] = [];
  const events: string[] = [];
  const t0 = Date.now();
  const at = () => ((Date.now() - t0) / 1000).toFixed(1);
  const note = (s: string) => {
    events.push(`${at()} s ${s}`);
    console.log(`[${at()} s] ${s}`);
  };

  let bot = await spawn(bin, env, 0);
  lives.push(bot.life);
  note(`bot #0 started (pid ${bot.life.pid})`);
  let restarting = false;

  const sample = async () => {
    if (restarting) return;
    const h = await health(bot.healthPort);
    const rss = rssKb(bot.life.pid);
    if (rss) bot.life.rssKb.push(rss);
    const s: Sample = {
      t: Date.now() - t0,
      life: bot.life.n,
      rssKb: rss,
      dbBytes: size(dbPath),
      walBytes: size(`${dbPath}-wal`),
      status: h?.status,
      outboxPending: h?.outbox_pending,
      sent: ledger.sent,
      answered: answeredCount(ledger),
    };
    samples.push(s);
    console.log(
      `[${at()} s] life ${s.life} rss ${((rss ?? 0) / 1024).toFixed(1)} MB db ${mb(s.dbBytes)} MB wal ${mb(s.walBytes)} MB ` +
        `health ${String(s.status)} outbox ${String(s.outboxPending)} sent ${s.sent} answered ${s.answered}`,
    );
  };

  const kill9 = async () => {
    restarting = true;
    const old = bot;
    old.proc.kill(9);
    await old.proc.exited;
    old.life.endedBy = "kill -9";
    note(`bot #${old.life.n} killed -9`);
    bot = await spawn(bin, env, old.life.n + 1);
    lives.push(bot.life);
    note(`bot #${bot.life.n} started (pid ${bot.life.pid})`);
    restarting = false;
  };

  // Faults on a schedule (seconds from the start); kills every KILL_EVERY_S, drops every 20 s between.
  const durationS = MINUTES * 60;
  const schedule: [number, string, () => void | Promise<void>][] = [];
  for (let s = 20; s < durationS; s += 20) if (s % KILL_EVERY_S !== 0) schedule.push([s, "dropSockets", () => emu.dropSockets()]);
  for (let s = KILL_EVERY_S; s < durationS; s += KILL_EVERY_S) schedule.push([s, "kill -9 + restart", kill9]);
  schedule.push([50, "blackhole on (5 s)", () => emu.blackhole(true)]);
  schedule.push([55, "blackhole off", () => emu.blackhole(false)]);
  schedule.push([
    90,
    `30 × 429 (Retry-After 2 s) on chat.postMessage in ${RATE_LIMITED}`,
    () => emu.fault("chat.postMessage", { status: 429, retryAfter: 2, times: 30, channel: RATE_LIMITED }),
  ]);
  schedule.sort((a, b) => a[0] - b[0]);
  while (schedule.length && schedule[schedule.length - 1]![0] >= durationS) schedule.pop();

  const stopLoad = startLoad(emu, ledger);
  const sampler = setInterval(() => void sample(), 3000);
  for (const [s, what, fn] of schedule) {
    const wait = t0 + s * 1000 - Date.now();
    if (wait > 0) await Bun.sleep(wait);
    note(what);
    await fn();
  }
  const endWait = t0 + durationS * 1000 - Date.now();
  if (endWait > 0) await Bun.sleep(endWait);
  stopLoad();
  note(`load stopped after ${ledger.sent} messages`);

  // Drain: every message answered, then a short settle so a late duplicate would show.
  const drainStart = Date.now();
  while (answeredCount(ledger) < ledger.sent && Date.now() - drainStart < 60_000) await Bun.sleep(100);
  const drainMs = Date.now() - drainStart;
  note(`drained in ${drainMs} ms (${answeredCount(ledger)}/${ledger.sent})`);
  await Bun.sleep(5000);
  await sample();
  clearInterval(sampler);
  const finalHealth = await health(bot.healthPort);

  // Graceful stop, then read the store.
  bot.proc.kill("SIGTERM");
  const code = await bot.proc.exited;
  bot.life.endedBy = `SIGTERM → exit ${code}`;
  unsubscribe();
  const db = new Database(dbPath, { readonly: true });
  const q = (sql: string) => (db.query(sql).get() as { n: number }).n;
  const store = {
    logRows: q("SELECT count(*) AS n FROM logs"),
    logBytes: q("SELECT bytes AS n FROM log_size WHERE id = 1"),
    events: q("SELECT count(*) AS n FROM events"),
    outbox: q("SELECT count(*) AS n FROM outbox"),
    outboxUnsent: q("SELECT count(*) AS n FROM outbox WHERE status != 'sent'"),
  };
  const lostRows = diagnose(emu, ledger, db, t0);
  db.close();

  report({ ledger, lives, samples, events, drainMs, finalHealth, store, dbPath, emu, exitCode: code });
  await emu.stop();
  if (lostRows === 0) cleanup(dir);
  else console.log(`data dir kept for inspection: ${dir}`);
  process.exit(0);
}

/** For each message not answered exactly once: when it was sent, its envelopes' fate, and the bot's event row. */
function diagnose(emu: SlackEmulator, ledger: Ledger, db: Database, t0: number): number {
  const row = db.query("SELECT key, status, detail, received_at FROM events WHERE channel = ? AND ts = ?");
  let n = 0;
  for (let i = 0; i < ledger.sent; i++) {
    if (ledger.answers[i] === 1) continue;
    if (++n > 30) continue;
    const m = ledger.meta[i]!;
    const envs = m.envelopes.map((id) => {
      const e = emu.envelopes.find((r) => r.envelope_id === id);
      const tries = e?.attempts.map((a) => `${((a.at - t0) / 1000).toFixed(1)}@${a.via}`).join(",");
      return `[${tries}${e?.acked ? ` acked ${((e.acked.at - t0) / 1000).toFixed(1)}` : ""}${e?.dropped ? " dropped" : ""}]`;
    });
    const rows = row.all(m.channel, m.ts) as { key: string; status: string; detail: string | null; received_at: number }[];
    const stored = rows.map((r) => `${r.key} ${r.status} @${((r.received_at - t0) / 1000).toFixed(1)}`).join("; ") || "no event row";
    console.log(`  ${tag(i)} ×${ledger.answers[i]} ${m.kind} ${m.channel} ts ${m.ts} sent @${((m.at - t0) / 1000).toFixed(1)} s envelopes ${envs.join(" ")} store: ${stored}`);
  }
  return n;
}

interface Report {
  ledger: Ledger;
  lives: Lifetime[];
  samples: Sample[];
  events: string[];
  drainMs: number;
  finalHealth: Record<string, unknown> | undefined;
  store: Record<string, number>;
  dbPath: string;
  emu: SlackEmulator;
  exitCode: number;
}

function report(r: Report): void {
  const { ledger } = r;
  let once = 0;
  let dup = 0;
  let lost = 0;
  const dupTags: string[] = [];
  for (let i = 0; i < ledger.sent; i++) {
    const n = ledger.answers[i]!;
    if (n === 1) once++;
    else if (n === 0) lost++;
    else {
      dup++;
      if (dupTags.length < 10) dupTags.push(`${tag(i)}×${n}`);
    }
  }
  const dropped = r.emu.envelopes.filter((e) => e.dropped && !e.acked).length;
  const redelivered = r.emu.envelopes.filter((e) => e.attempts.length > 1).length;
  const maxSample = (f: (s: Sample) => number) => Math.max(...r.samples.map(f));
  console.log(`\n=== soak: ${MINUTES} min, ${RATE} msg/s, ${USERS} users, kill -9 every ${KILL_EVERY_S} s ===`);
  console.log(`messages sent            ${ledger.sent}`);
  console.log(`answered exactly once    ${once}`);
  console.log(`duplicates               ${dup}${dupTags.length ? ` (${dupTags.join(", ")})` : ""}`);
  console.log(`lost                     ${lost}`);
  console.log(`drain after load stop    ${r.drainMs} ms`);
  console.log(`envelopes redelivered    ${redelivered}; dropped by the emulator after retries ${dropped} (catch-up's job)`);
  console.log(`max connections at once  ${r.emu.maxConcurrentConnections}`);
  console.log(`\nRSS per process lifetime (MB; sampled every 3 s):`);
  console.log(`  life  pid      samples  min     median  max     ended by`);
  for (const l of r.lives) {
    const s = stats(l.rssKb.map((k) => k / 1024));
    console.log(
      `  ${String(l.n).padEnd(5)} ${String(l.pid).padEnd(8)} ${String(l.rssKb.length).padEnd(8)} ` +
        `${s.min.toFixed(1).padEnd(7)} ${s.median.toFixed(1).padEnd(7)} ${s.max.toFixed(1).padEnd(7)} ${l.endedBy ?? ""}`,
    );
  }
  console.log(`\nstore: db ${mb(size(r.dbPath))} MB (max seen ${mb(maxSample((s) => s.dbBytes))}), wal ${mb(size(`${r.dbPath}-wal`))} MB (max seen ${mb(maxSample((s) => s.walBytes))})`);
  console.log(`  log rows ${r.store.logRows}, log bytes (accounted) ${mb(r.store.logBytes ?? 0)} MB of the 1 MB budget`);
  console.log(`  events rows ${r.store.events}, outbox rows ${r.store.outbox} (not sent: ${r.store.outboxUnsent})`);
  console.log(`health at the end: ${JSON.stringify(r.finalHealth)}`);
  console.log(`bot exit after SIGTERM: ${r.exitCode}`);
  console.log(`\nfault timeline:\n  ${r.events.join("\n  ")}`);
  const ok = lost === 0 && dup === 0;
  console.log(`\n${ok ? "PASS" : "FAIL"}: ${lost} lost, ${dup} duplicated of ${ledger.sent}`);
}

await main();
