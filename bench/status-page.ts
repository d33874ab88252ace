// Run by hand: `bun bench/status-page.ts [LOG_ROWS]`. What one load of the status page costs
// against a full store: LOG_ROWS log lines (default 100k, about a 20 MB log) whose warnings are
// all old, 2,000 failed outbox items and 500 pending approvals. Measures the page's reads
// (readStatusPageData, p50/p99 of 50 loads) and the rendering, and, for comparison, the
// warnings query without the page's window (a scan of the whole log), which is what the
// window is for: the store's one connection is held for as long as a read takes.
import { join } from "node:path";
import { systemClock } from "../src/core/clock.ts";
import { makeRedactor } from "../src/core/redact.ts";
import { readStatusPageData } from "../src/health/status-data.ts";
import { renderStatusPage } from "../src/health/status-page.ts";
import { openSqliteStore } from "../src/store/sqlite/index.ts";
import { cleanup, tempDir } from "../test/helpers/bot.ts";
import { snapshot } from "../test/health/snapshot.ts";

const LOG_ROWS = Number(process.argv[2] ?? 100_000);
const RUNS = 50;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    xs.push(performance.now() - t0);
  }
  return { p50: pct(xs, 50), p99: pct(xs, 99) };
}

const dir = tempDir("clawdbot-bench-page-");
const store = openSqliteStore(join(dir, "clawdbot.db"), { logRetentionBytes: 1024 * 1024 * 1024 });
try {
  const now = Date.now();
  await store.tx(async (t) => {
    for (let i = 0; i < LOG_ROWS; i++) {
      await t.logs.append(now - LOG_ROWS + i, i < 50 ? "warn" : "info", `event ev:${i} answered in 812 ms by the agent (echo) with 2 parts`);
    }
    for (let i = 0; i < 2000; i++) await t.outbox.markFailed(await t.outbox.enqueue({ op: "post", channel: "CGONE", text: `reply ${i}` }, now), "channel_not_found", now);
    for (let i = 0; i < 500; i++) {
      await t.approvals.create({ id: `ap_${i}`, kind: "exec", text: "df -h", requestedBy: "U1", channel: "C1", expiresAt: now + 3_600_000 }, now - i);
    }
  });
  const reads = await time(() => readStatusPageData(store, systemClock));
  const data = await readStatusPageData(store, systemClock);
  if ("unavailable" in data) throw new Error(data.unavailable);
  const redact = makeRedactor(["xoxb-bench-token"]);
  const view = { now, snapshot: snapshot(), instance: "bench:1", store: { kind: "sqlite", location: store.location }, connection: null, data };
  const render = await time(async () => renderStatusPage(view, redact));
  const html = renderStatusPage(view, redact);
  const fullScan = await time(() => store.logs.select({ levels: ["warn", "error", "critical"], limit: 30, newestFirst: true }));
  const ms = (x: { p50: number; p99: number }) => `p50 ${x.p50.toFixed(2)} ms, p99 ${x.p99.toFixed(2)} ms`;
  console.log(`log rows ${LOG_ROWS}, failed outbox 2000, pending approvals 500`);
  console.log(`page reads (windowed):        ${ms(reads)}`);
  console.log(`render:                       ${ms(render)} (${(html.length / 1024).toFixed(1)} kB)`);
  console.log(`warnings without the window:  ${ms(fullScan)}`);
} finally {
  await store.close();
  cleanup(dir);
}
