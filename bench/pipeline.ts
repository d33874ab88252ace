// Run by hand: `bun bench/pipeline.ts [N]`. Measures, on the local Slack emulator:
//  1. events/s and ack latency (p50/p99) for a burst of N DMs through clawdbot (in-process
//     runtime, echo agent, durable store and outbox) and through a plain @slack/bolt echo
//     app (SocketModeReceiver pointed at the emulator);
//  2. the cost of one log line in the store at 1k and at 1M rows.
// Loopback only, bounded in count and time.
import { Database } from "bun:sqlite";
import { App, LogLevel } from "@slack/bolt";
import type { Store } from "../src/core/store.ts";
import { openStore, storeLocation } from "../src/store/index.ts";
import { cleanup, startBot, startEmulator, tempDir } from "../test/helpers/bot.ts";
import { type BurstResult, burst } from "./burst.ts";

const N = Number(process.argv[2] ?? 1000);
const USERS = 20;

type Result = BurstResult;

async function clawdbot(): Promise<Result> {
  const emu = await startEmulator();
  const dir = tempDir("clawdbot-bench-");
  const bot = await startBot(emu, { CLAWDBOT_CONSOLE_LEVEL: "0" }, dir);
  await emu.waitFor(() => emu.openConnections() === 1);
  try {
    return await burst(emu, "clawdbot", N, USERS);
  } finally {
    await bot.stop();
    await emu.stop();
    cleanup(dir);
  }
}

async function boltEcho(): Promise<Result> {
  const emu = await startEmulator();
  const app = new App({
    token: emu.options.botToken,
    appToken: emu.options.appToken,
    socketMode: true,
    clientOptions: { slackApiUrl: emu.apiUrl },
    logLevel: LogLevel.ERROR,
  });
  app.message(async ({ message, say }) => {
    await say(`echo: ${(message as { text?: string }).text ?? ""}`);
  });
  await app.start();
  await emu.waitFor(() => emu.openConnections() === 1);
  try {
    return await burst(emu, "bolt echo", N, USERS);
  } finally {
    await app.stop();
    await emu.stop();
  }
}

/** µs per logs.append with `rows` rows already there (no trim: retention set high). */
async function logCost(rows: number): Promise<{ rows: number; appendUs: number; trimAppendUs: number }> {
  const dir = tempDir("clawdbot-bench-logs-");
  const path = storeLocation({ dataDir: dir });
  let store = await openStore(path, { logRetentionBytes: 4 * 2 ** 30 });
  // Filled behind the store's back, in one statement: a million appends would take minutes.
  const db = new Database(path);
  db.run(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO logs (at, level, msg, fields, bytes) SELECT i, 'info', 'outbox: #' || i || ' sent to C0123456 in 42 ms', NULL, 120 FROM n`,
    [rows],
  );
  db.run("UPDATE log_size SET bytes = ? WHERE id = 1", [rows * 120]);
  db.close();
  const time = async (s: Store) => {
    const k = 2000;
    const t = performance.now();
    for (let i = 0; i < k; i++) await s.logs.append(Date.now(), "info", `bench line ${i} with some ordinary length of text`);
    return ((performance.now() - t) * 1000) / k;
  };
  const appendUs = await time(store);
  await store.close();
  // The same store at its retention bound: every append also trims the oldest rows.
  store = await openStore(path, { logRetentionBytes: rows * 120 });
  const trimAppendUs = await time(store);
  await store.close();
  cleanup(dir);
  return { rows, appendUs, trimAppendUs };
}

const results = [await clawdbot(), await boltEcho()];
console.log(`\nburst of ${N} DMs (${USERS} users), echo agent, local emulator:`);
for (const r of results) {
  console.log(
    `  ${r.name.padEnd(10)} ${r.eventsPerS.toFixed(0).padStart(6)} events/s (all replies in ${r.totalMs.toFixed(0)} ms), ack p50 ${r.ackP50} ms, p99 ${r.ackP99} ms`,
  );
}
console.log("\nlog store, one line:");
for (const rows of [1_000, 1_000_000]) {
  const c = await logCost(rows);
  console.log(`  at ${String(c.rows).padStart(9)} rows: ${c.appendUs.toFixed(1)} µs/line; at the retention bound (trimming): ${c.trimAppendUs.toFixed(1)} µs/line`);
}
process.exit(0);
