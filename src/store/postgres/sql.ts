// What every table module of the PostgreSQL adapter shares: the client type, select lists
// that name columns as the domain does, and the conversions between the two.
import type { SQL } from "bun";

/**
 * The pool, or a transaction's client: both are called as tagged templates. The statements of
 * every answered message are fixed texts with $n placeholders run as `sql.unsafe(TEXT, values)`
 * instead: the same prepared statement, without building the text from a template each call
 * (half the client's CPU per statement; BENCHMARKS.md, "A cluster on PostgreSQL"). The values
 * are still parameters, never spliced into the text.
 */
export type Sql = SQL;

/** `SELECT` list for a table: `snake_col AS "camelField"` for each field. */
export function selectList<T>(columns: { [K in keyof T]-?: string }): string {
  return Object.entries(columns as Record<string, string>)
    .map(([field, column]) => (field === column ? column : `${column} AS "${field}"`))
    .join(", ");
}

/**
 * Rows in the domain's shape. BIGINT columns (times in ms, ids) and sums come back as
 * strings; they are numbers in the domain (all well inside 2^53).
 */
export function rows<T>(result: readonly object[], numeric: readonly string[]): T[] {
  const out: T[] = [];
  for (const r of result) {
    const row = r as Record<string, unknown>;
    for (const f of numeric) if (row[f] !== null && row[f] !== undefined) row[f] = Number(row[f]);
    out.push(row as T);
  }
  return out;
}

export function first<T>(result: readonly object[], numeric: readonly string[]): T | null {
  return rows<T>(result.slice(0, 1), numeric)[0] ?? null;
}

/**
 * PostgreSQL's text cannot hold U+0000 (a job's output can): it becomes U+FFFD, so the
 * row is stored rather than refused and the rest of the text is kept.
 */
export function text(v: string): string;
export function text(v: string | null | undefined): string | null;
export function text(v: string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  return v.includes("\u0000") ? v.replaceAll("\u0000", "\ufffd") : v;
}

/** Counts by a text column: `{value: n}`. */
export function countsBy(result: readonly object[]): Record<string, number> {
  return Object.fromEntries((result as { k: string; n: number | string }[]).map((r) => [r.k, Number(r.n)]));
}
