// Group commit: the small writes asked for during one event-loop turn (the records of the
// envelopes that arrived together, claims, sent marks) go to the store as one transaction,
// and each caller's promise settles once that transaction has committed: what waits for a
// write (an ack waits for its record) still waits for it to be durable. One commit for many
// writes instead of one each is where a burst's time went (BENCHMARKS.md, "Throughput").
// If the shared transaction fails, each write is tried again in a transaction of its own, so
// a bad one fails alone and the others land.
import type { Store, StoreTx } from "./store.ts";

/** Runs fn as (part of) one write transaction, like Store.tx. */
export type Commit = <T>(fn: (t: StoreTx) => Promise<T>) => Promise<T>;

interface Write {
  fn: (t: StoreTx) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Like `store.tx`, but the writes of one turn share a transaction. Each fn must be store calls
 * only (Store.tx's rule) and may run twice: once in the shared transaction (rolled back if
 * another write failed) and once alone.
 */
export function groupCommit(store: Store): Commit {
  let batch: Write[] = [];
  const alone = (w: Write) => store.tx(w.fn).then(w.resolve, w.reject);
  const flush = async () => {
    const writes = batch;
    batch = [];
    if (writes.length === 1) return alone(writes[0] as Write);
    let results: unknown[];
    try {
      results = await store.tx(async (t) => {
        const out: unknown[] = [];
        for (const w of writes) out.push(await w.fn(t));
        return out;
      });
    } catch {
      await Promise.all(writes.map(alone));
      return;
    }
    for (const [i, w] of writes.entries()) w.resolve(results[i]);
  };
  return <T>(fn: (t: StoreTx) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      // After the I/O of this turn: every envelope read in it joins the same transaction.
      if (batch.length === 0) setImmediate(() => void flush());
      batch.push({ fn, resolve: resolve as (v: unknown) => void, reject });
    });
}
