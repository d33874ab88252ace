// Token usage of every agent call (seed 2.4's usage logs, now queryable).
import type { Database, Statement } from "bun:sqlite";
import type { UsageRecord, UsageSummary } from "../../core/store.ts";

export class SqliteUsage {
  private readonly insertQ: Statement;

  constructor(private readonly db: Database) {
    this.insertQ = db.prepare(
      "INSERT INTO usage (at, provider, model, input_tokens, output_tokens, latency_ms, event_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
  }

  record(u: UsageRecord, now: number): void {
    this.insertQ.run(now, u.provider, u.model, u.inputTokens, u.outputTokens, Math.round(u.latencyMs), u.eventKey ?? null);
  }

  /** Totals per provider and model: the folded past plus the recent rows. */
  summary(): UsageSummary[] {
    return this.db
      .query<UsageSummary, []>(
        `SELECT provider, model, sum(calls) AS calls, sum(input_tokens) AS inputTokens, sum(output_tokens) AS outputTokens
         FROM (
           SELECT provider, model, calls, input_tokens, output_tokens FROM usage_totals
           UNION ALL
           SELECT provider, model, 1, input_tokens, output_tokens FROM usage
         )
         GROUP BY provider, model ORDER BY provider, model`,
      )
      .all();
  }

  /** Folds rows older than `before` into the totals and deletes them (call inside a transaction). */
  fold(before: number): number {
    this.db.run(
      `INSERT INTO usage_totals (provider, model, calls, input_tokens, output_tokens)
       SELECT provider, model, count(*), sum(input_tokens), sum(output_tokens) FROM usage WHERE at < ? GROUP BY provider, model
       ON CONFLICT(provider, model) DO UPDATE SET
         calls = calls + excluded.calls,
         input_tokens = input_tokens + excluded.input_tokens,
         output_tokens = output_tokens + excluded.output_tokens`,
      [before],
    );
    return this.db.run("DELETE FROM usage WHERE at < ?", [before]).changes;
  }
}
