// `clawdbot logs`: the store's bounded log, newest last, one line per event (the console's
// layout) or one JSON object per line. Read-only, like state dump: safe while `run` writes.
import { defineCommand } from "citty";
import { formatLogLine, useColor } from "../log.ts";
import type { LogEntry as LogRow, Store } from "../core/store.ts";
import { openStore, storeExists } from "../store/index.ts";
import { dbArg, defaultDbPath, noStore } from "./_store.ts";
import { CliExit } from "./exit.ts";

const LEVELS = ["debug", "info", "warn", "error", "critical"] as const;
const LEVEL_ALIASES: Record<string, (typeof LEVELS)[number]> = { warning: "warn", crit: "critical", fatal: "critical" };
const DEFAULT_LINES = 100;
/** How often --follow looks for new lines (CLAWDBOT_LOGS_POLL_MS; tests shorten it). */
const DEFAULT_POLL_MS = 1000;
/** Rows read per query while paging back for --grep. */
const PAGE = 500;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export interface LogsQuery {
  lines: number;
  /** The levels shown: --level and worse. */
  levels?: string[];
  since?: number;
  grep?: RegExp;
}

export interface LogsOutput {
  json: boolean;
  colour: boolean;
  print: (line: string) => void;
}

class BadArg extends Error {}

/** `10m`, `2h`, `1d`, `90s`, `1w`, or an ISO date/time: the time from which lines are shown. */
export function parseSince(s: string, now: number): number {
  const d = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(s.trim());
  if (d) return now - Number(d[1]) * (UNIT_MS[(d[2] as string).toLowerCase()] as number);
  const t = /^\d{4}-\d\d-\d\d/.test(s.trim()) ? Date.parse(s.trim()) : Number.NaN;
  if (Number.isNaN(t)) throw new BadArg(`--since "${s}": give a duration (30s, 10m, 2h, 1d, 1w) or an ISO time (2025-03-01T10:00:00Z)`);
  return t;
}

/** --level L: L and worse. */
export function levelsFrom(l: string): string[] {
  const name = LEVEL_ALIASES[l.toLowerCase()] ?? l.toLowerCase();
  const i = LEVELS.indexOf(name as (typeof LEVELS)[number]);
  if (i < 0) throw new BadArg(`--level "${l}": one of ${LEVELS.join(", ")} (that level and worse are shown)`);
  return LEVELS.slice(i);
}

function parseLines(n: string | undefined): number {
  if (n === undefined) return DEFAULT_LINES;
  if (!/^\d+$/.test(n.trim())) throw new BadArg(`-n "${n}": a number of lines (0 or more)`);
  return Number(n);
}

function parseGrep(re: string | undefined): RegExp | undefined {
  if (re === undefined) return undefined;
  try {
    return new RegExp(re);
  } catch (err) {
    throw new BadArg(`--grep "${re}": not a regular expression (${(err as Error).message})`);
  }
}

const matches = (q: LogsQuery, r: LogRow) => !q.grep || q.grep.test(r.fields ? `${r.msg} ${r.fields}` : r.msg);

function render(r: LogRow, o: LogsOutput): string {
  if (!o.json) return formatLogLine(r.at, r.level, r.msg, r.fields, o.colour);
  let fields: unknown = r.fields;
  try {
    fields = r.fields === null ? null : JSON.parse(r.fields);
  } catch {
    // stored as text that is not JSON: shown as it is
  }
  return JSON.stringify({ id: r.id, at: new Date(r.at).toISOString(), level: r.level, msg: r.msg, fields });
}

/** Prints the last `q.lines` matching lines, oldest first; returns the newest id the store held. */
export async function printTail(store: Store, q: LogsQuery, o: LogsOutput): Promise<number> {
  const newest = (await store.logs.select({ limit: 1, newestFirst: true }))[0]?.id ?? 0;
  const picked: LogRow[] = [];
  let before = newest + 1;
  while (picked.length < q.lines) {
    const limit = q.grep ? PAGE : q.lines - picked.length;
    const rows = await store.logs.select({ beforeId: before, since: q.since, levels: q.levels, limit, newestFirst: true });
    for (const r of rows) if (picked.length < q.lines && matches(q, r)) picked.push(r);
    if (rows.length < limit) break;
    before = (rows[rows.length - 1] as LogRow).id;
  }
  for (const r of picked.reverse()) o.print(render(r, o));
  return newest;
}

/** Prints lines newer than `afterId` as they arrive, until `signal` aborts. */
export async function follow(store: Store, q: LogsQuery, o: LogsOutput, afterId: number, pollMs: number, signal: AbortSignal): Promise<void> {
  let last = afterId;
  while (!signal.aborted) {
    const rows = await store.logs.select({ afterId: last, since: q.since, levels: q.levels, limit: PAGE });
    for (const r of rows) if (matches(q, r)) o.print(render(r, o));
    if (rows.length) last = (rows[rows.length - 1] as LogRow).id;
    // A full page means more are waiting: read on without pausing.
    if (rows.length < PAGE) await sleep(pollMs, signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

export default defineCommand({
  meta: { name: "logs", description: "Print the bot's log (the store's), newest last; --follow waits for more" },
  args: {
    lines: { type: "string", alias: "n", description: `how many lines (default ${DEFAULT_LINES}; 0 with --follow: only new ones)` },
    follow: { type: "boolean", alias: "f", description: "keep printing new lines until Ctrl+C" },
    level: { type: "string", description: "this level and worse: debug, info, warn, error, critical" },
    since: { type: "string", description: "from this time: 30s, 10m, 2h, 1d, 1w, or an ISO time" },
    grep: { type: "string", description: "only lines whose message or fields match this regular expression (case-sensitive)" },
    json: { type: "boolean", description: "one JSON object per line: {id, at, level, msg, fields}" },
    ...dbArg,
  },
  async run({ args }) {
    let q: LogsQuery;
    try {
      q = {
        lines: parseLines(args.lines),
        levels: args.level === undefined ? undefined : levelsFrom(args.level),
        since: args.since === undefined ? undefined : parseSince(args.since, Date.now()),
        grep: parseGrep(args.grep),
      };
    } catch (err) {
      if (err instanceof BadArg) throw new CliExit(2, `clawdbot logs: ${err.message}`);
      throw err;
    }
    const pollMs = Number(process.env.CLAWDBOT_LOGS_POLL_MS) || DEFAULT_POLL_MS;
    const path = args.db || defaultDbPath();
    if (!storeExists(path)) throw noStore(path);
    const out: LogsOutput = { json: !!args.json, colour: !args.json && useColor(process.stdout), print: (l) => console.log(l) };

    const stop = new AbortController();
    const onSignal = () => stop.abort();
    const signals = ["SIGINT", "SIGTERM", "SIGBREAK"] as const;
    let store: Store | undefined;
    try {
      store = await openStore(path, { readonly: true });
      const newest = await printTail(store, q, out);
      if (args.follow) {
        for (const s of signals) process.on(s, onSignal);
        await follow(store, q, out, newest, pollMs, stop.signal);
      }
    } catch (err) {
      throw noStore(path, err instanceof Error ? err.message : String(err));
    } finally {
      for (const s of signals) process.off(s, onSignal);
      await store?.close();
    }
  },
});
