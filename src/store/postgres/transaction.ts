// A write transaction on one connection of the pool, in fewer round trips than Bun.sql's
// begin(), which waits for its BEGIN before the body runs (it sends it as a simple query,
// which the client does not pipeline). Here BEGIN is an extended-protocol statement sent with
// the body's first statements, and a write whose caller needs no answer (an event's status, a
// sent mark) goes out without its caller waiting for it, COMMIT right behind it. Statements on
// one connection run in the order sent, so the body still reads its own writes. The body of
// an answer goes from seven round trips to five (BENCHMARKS.md, "A cluster on PostgreSQL").
import type { ReservedSQL, SQL } from "bun";

const noop = () => {};

/** PostgreSQL's SQLSTATE for a statement refused because an earlier one failed the transaction. */
const IN_FAILED_TRANSACTION = "25P02";

export class Transaction {
  private readonly unanswered: Promise<void>[] = [];
  /** The first write sent without waiting that failed: what failed the transaction. */
  private failure: { err: unknown } | null = null;

  constructor(readonly sql: ReservedSQL) {}

  /** Sends `q` without waiting for it: if it fails, the transaction fails (its next statement, or its commit). */
  send(q: Promise<unknown>): void {
    this.unanswered.push(
      q.then(noop, (err) => {
        this.failure ??= { err };
      }),
    );
  }

  /** The error to report: the write that failed first rather than the statements refused after it. */
  cause(err: unknown): unknown {
    return this.failure && (err as { errno?: string })?.errno === IN_FAILED_TRANSACTION ? this.failure.err : err;
  }

  async commit(): Promise<void> {
    const [done] = await Promise.all([this.sql`COMMIT`, ...this.unanswered]);
    if (this.failure) throw this.failure.err;
    // An aborted transaction's COMMIT answers ROLLBACK, not an error: a body that caught a failed statement must not pass for committed.
    if ((done as { command?: string }).command !== "COMMIT") throw new Error("the transaction was rolled back: a statement in it failed");
  }
}

/** A write the caller needs no answer to: sent without waiting inside a transaction, awaited outside one. */
export async function write(q: Promise<unknown>, tx: Transaction | undefined): Promise<void> {
  if (tx) tx.send(q);
  else await q;
}

/** Runs `body` as one transaction on a reserved connection: all of it commits, or none. */
export async function transaction<T>(pool: SQL, body: (tx: Transaction) => Promise<T>): Promise<T> {
  const conn = await pool.reserve();
  const tx = new Transaction(conn);
  try {
    tx.send(conn`BEGIN`);
    let result: T;
    try {
      result = await body(tx);
    } catch (err) {
      throw tx.cause(err);
    }
    await tx.commit();
    return result;
  } catch (err) {
    // After everything sent before it; a no-op (a warning) if COMMIT already ended the transaction.
    await conn`ROLLBACK`.catch(noop);
    throw err;
  } finally {
    conn.release();
  }
}
