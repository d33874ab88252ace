// Run by hand: `bun bench/log-store.ts`. The cost of one line in the store's bounded log at
// 1k and at 1M rows, and at its retention bound (every append also trims). The burst this
// script used to measure beside it is bench/throughput.ts's now.
import { Database } from "bun:sqlite";
import type { Store } from "../src/core/store.ts";
import { openStore, storeLocation } from "../src/store/index.ts";
import { cleanup, tempDir } from "../test/helpers/bot.ts";

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

console.log("log store, one line:");
for (const rows of [1_000, 1_000_000]) {
  const c = await logCost(rows);
  console.log(`  at ${String(c.rows).padStart(9)} rows: ${c.appendUs.toFixed(1)} µs/line; at the retention bound (trimming): ${c.trimAppendUs.toFixed(1)} µs/line`);
}
process.exit(0);
