// Token usage of every agent call, folded into per-model totals past the retention.
import type { UsageRecord, UsageRepo, UsageSummary } from "../../core/store.ts";
import { rows, type Sql } from "./sql.ts";

export class PgUsage implements UsageRepo {
  constructor(private readonly sql: Sql) {}

  async record(u: UsageRecord, now: number): Promise<void> {
    await this.sql`
      INSERT INTO usage (at, provider, model, input_tokens, output_tokens, latency_ms, event_key)
      VALUES (${now}, ${u.provider}, ${u.model}, ${u.inputTokens}, ${u.outputTokens}, ${Math.round(u.latencyMs)}, ${u.eventKey ?? null})`;
  }

  async summary(): Promise<UsageSummary[]> {
    return rows<UsageSummary>(
      await this.sql`
        SELECT provider, model, sum(calls) AS calls, sum(input_tokens) AS "inputTokens", sum(output_tokens) AS "outputTokens"
        FROM (
          SELECT provider, model, calls, input_tokens, output_tokens FROM usage_totals
          UNION ALL
          SELECT provider, model, 1, input_tokens, output_tokens FROM usage
        ) u
        GROUP BY provider, model ORDER BY provider, model`,
      ["calls", "inputTokens", "outputTokens"],
    );
  }

  /** One statement: the rows moved and the totals grown together. */
  async fold(before: number): Promise<number> {
    const [row] = await this.sql`
      WITH moved AS (DELETE FROM usage WHERE at < ${before} RETURNING provider, model, input_tokens, output_tokens),
      added AS (
        INSERT INTO usage_totals (provider, model, calls, input_tokens, output_tokens)
        SELECT provider, model, count(*), sum(input_tokens), sum(output_tokens) FROM moved GROUP BY provider, model
        ON CONFLICT (provider, model) DO UPDATE SET
          calls = usage_totals.calls + excluded.calls,
          input_tokens = usage_totals.input_tokens + excluded.input_tokens,
          output_tokens = usage_totals.output_tokens + excluded.output_tokens
      )
      SELECT count(*)::int AS n FROM moved`;
    return Number(row?.n ?? 0);
  }
}
