// The bounded, append-only log (replaces the seed's read-append-write file, seed 1.4).
// An append is one INSERT and one counter UPDATE in a single transaction: its cost does
// not depend on the log's size, and concurrent writers (the bot, a CLI command) serialise
// on SQLite's lock instead of corrupting each other.
import type { Database, Statement } from "bun:sqlite";
import type { LogEntry, LogQuery } from "../../core/store.ts";

/** Row overhead in SQLite pages, so the budget bounds the file, not just the text. */
const ROW_OVERHEAD = 48;
/** Content may use this share of the retention bound: the rest is page slack and indexes. */
const FILL = 0.7;
/** Trimming frees down to this share, so trims are rare and batched. */
const TRIM_TO = 0.55;

export class SqliteLogs {
  private readonly insert: Statement;
  private readonly grow: Statement;
  private readonly size: Statement<{ bytes: number }, []>;
  private readonly oldest: Statement<{ id: number; bytes: number }, [number]>;
  private readonly trim: Statement;
  /** A savepoint inside a caller's transaction, a write transaction of its own otherwise. */
  private readonly appendTx: { immediate(at: number, level: string, msg: string, fields: string | null, bytes: number): void };

  constructor(
    private readonly db: Database,
    private readonly retentionBytes: number,
  ) {
    this.insert = db.prepare("INSERT INTO logs (at, level, msg, fields, bytes) VALUES (?, ?, ?, ?, ?)");
    this.grow = db.prepare("UPDATE log_size SET bytes = bytes + ? WHERE id = 1");
    this.size = db.prepare("SELECT bytes FROM log_size WHERE id = 1");
    this.oldest = db.prepare("SELECT id, bytes FROM logs ORDER BY id LIMIT ?");
    this.trim = db.prepare("DELETE FROM logs WHERE id <= ?");
    this.appendTx = db.transaction((at: number, level: string, msg: string, fields: string | null, bytes: number) => {
      this.insert.run(at, level, msg, fields, bytes);
      this.grow.run(bytes);
      const total = this.size.get()?.bytes ?? 0;
      if (total > this.retentionBytes * FILL) this.#trimTo(total, this.retentionBytes * TRIM_TO);
    });
  }

  append(at: number, level: string, msg: string, fields?: string): void {
    const bytes = Buffer.byteLength(msg) + (fields ? Buffer.byteLength(fields) : 0) + ROW_OVERHEAD;
    this.appendTx.immediate(at, level, msg, fields ?? null, bytes);
  }

  #trimTo(total: number, target: number): void {
    let freed = 0;
    let cut = -1;
    // Oldest rows first, in batches: the trim is proportional to what it removes.
    while (total - freed > target) {
      const rows = this.oldest.all(1000);
      if (rows.length === 0) break;
      for (const r of rows) {
        freed += r.bytes;
        cut = r.id;
        if (total - freed <= target) break;
      }
      this.trim.run(cut);
    }
    this.grow.run(-freed);
  }

  /** Bytes the log counts as used (text plus per-row overhead). */
  usedBytes(): number {
    return this.size.get()?.bytes ?? 0;
  }

  tail(limit = 100): LogEntry[] {
    return this.db
      .query<LogEntry, [number]>("SELECT id, at, level, msg, fields FROM logs ORDER BY id DESC LIMIT ?")
      .all(limit)
      .reverse();
  }

  select(q: LogQuery): LogEntry[] {
    const where: string[] = [];
    const params: (number | string)[] = [];
    const add = (clause: string, ...values: (number | string)[]) => {
      where.push(clause);
      params.push(...values);
    };
    if (q.afterId !== undefined) add("id > ?", q.afterId);
    if (q.beforeId !== undefined) add("id < ?", q.beforeId);
    if (q.since !== undefined) add("at >= ?", q.since);
    if (q.levels) add(`level IN (${q.levels.map(() => "?").join(", ") || "NULL"})`, ...q.levels);
    const filter = where.length ? ` WHERE ${where.join(" AND ")}` : "";
    const sql = `SELECT id, at, level, msg, fields FROM logs${filter} ORDER BY id ${q.newestFirst ? "DESC" : "ASC"} LIMIT ?`;
    return this.db.query<LogEntry, (number | string)[]>(sql).all(...params, q.limit);
  }

  count(): number {
    return this.db.query<{ n: number }, []>("SELECT count(*) AS n FROM logs").get()?.n ?? 0;
  }
}
