// The bounded, append-only log. An append is one statement (the row and the running size);
// past the bound, one more statement trims the oldest rows down to a share of it, so trims
// are rare and an append costs the same however big the log is.
import type { LogEntry, LogQuery, LogsRepo } from "../../core/store.ts";
import { rows, type Sql, text } from "./sql.ts";

/** Row overhead in PostgreSQL's pages, so the budget bounds the table, not just the text. */
const ROW_OVERHEAD = 48;
/** Content may use this share of the retention bound: the rest is page slack and indexes. */
const FILL = 0.7;
/** Trimming frees down to this share. */
const TRIM_TO = 0.55;

export class PgLogs implements LogsRepo {
  constructor(
    private readonly sql: Sql,
    private readonly retentionBytes: number,
  ) {}

  async append(at: number, level: string, msg: string, fields?: string): Promise<void> {
    const m = text(msg);
    const f = text(fields);
    const bytes = Buffer.byteLength(m) + (f ? Buffer.byteLength(f) : 0) + ROW_OVERHEAD;
    const [row] = await this.sql`
      WITH added AS (INSERT INTO logs (at, level, msg, fields, bytes) VALUES (${at}, ${level}, ${m}, ${f}, ${bytes}))
      UPDATE log_size SET bytes = bytes + ${bytes} WHERE id = 1 RETURNING bytes`;
    if (Number(row?.bytes ?? 0) > this.retentionBytes * FILL) await this.trim(Math.floor(this.retentionBytes * TRIM_TO));
  }

  /**
   * Deletes the oldest rows until the log holds at most `target` bytes. The size row is
   * locked for the statement, so two instances trimming at once do not free twice.
   */
  private async trim(target: number): Promise<void> {
    await this.sql`
      WITH size AS (SELECT bytes FROM log_size WHERE id = 1 FOR UPDATE),
      running AS (SELECT id, sum(bytes) OVER (ORDER BY id) AS freed FROM logs),
      cut AS (SELECT max(running.id) AS id FROM running, size WHERE running.freed <= size.bytes - ${target}),
      gone AS (DELETE FROM logs WHERE id <= (SELECT id FROM cut) RETURNING bytes)
      UPDATE log_size SET bytes = bytes - (SELECT coalesce(sum(bytes), 0) FROM gone) WHERE id = 1`;
  }

  async usedBytes(): Promise<number> {
    const [row] = await this.sql`SELECT bytes FROM log_size WHERE id = 1`;
    return Number(row?.bytes ?? 0);
  }

  async tail(limit = 100): Promise<LogEntry[]> {
    const r = rows<LogEntry>(await this.sql`SELECT id, at, level, msg, fields FROM logs ORDER BY id DESC LIMIT ${limit}`, ["id", "at"]);
    return r.reverse();
  }

  async select(q: LogQuery): Promise<LogEntry[]> {
    const sql = this.sql;
    const where = [sql`TRUE`];
    if (q.afterId !== undefined) where.push(sql`AND id > ${q.afterId}`);
    if (q.beforeId !== undefined) where.push(sql`AND id < ${q.beforeId}`);
    if (q.since !== undefined) where.push(sql`AND at >= ${q.since}`);
    if (q.levels) where.push(sql`AND level = ANY(${sql.array([...q.levels], "TEXT")})`);
    const order = q.newestFirst ? sql`ORDER BY id DESC` : sql`ORDER BY id ASC`;
    return rows<LogEntry>(await sql`SELECT id, at, level, msg, fields FROM logs WHERE ${where} ${order} LIMIT ${q.limit}`, ["id", "at"]);
  }

  async count(): Promise<number> {
    const [row] = await this.sql`SELECT count(*)::int AS n FROM logs`;
    return Number(row?.n ?? 0);
  }
}
