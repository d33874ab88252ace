// Group commit: the small writes asked for during one event-loop turn (the records of the
// envelopes that arrived together, claims, answers) go to the store as one transaction,
// and each caller's promise settles once that transaction has committed: what waits for a
// write (an ack waits for its record) still waits for it to be durable. One commit for many
// writes instead of one each is where a burst's time went (BENCHMARKS.md, "Throughput").
// A write nothing waits for soon (a sent mark) can ride `later` with whichever transaction
// comes next. If the shared transaction fails, each write is tried again in a transaction
// of its own, so a bad one fails alone and the others land.
import type { Store, StoreTx } from "./store.ts";

/** Runs fn as (part of) one write transaction, like Store.tx. */
export interface Commit {
  <T>(fn: (t: StoreTx) => Promise<T>): Promise<T>;
  /** The same, but the write joins the next transaction asked for, or commits LATER_MS after it was asked at the latest. */
  later<T>(fn: (t: StoreTx) => Promise<T>): Promise<T>;
}

/** How long a `later` write waits for company. */
export const LATER_MS = 20;

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
  let scheduled = false;
  let waiting: ReturnType<typeof setTimeout> | null = null;
  const alone = (w: Write) => store.tx(w.fn).then(w.resolve, w.reject);
  const flush = async () => {
    scheduled = false;
    if (waiting) clearTimeout(waiting);
    waiting = null;
    const writes = batch;
    batch = [];
    if (writes.length === 0) return;
    if (writes.length === 1) return alone(writes[0] as Write);
    let results: unknown[];
    try {
      results = await store.tx(async (t) => {
        if (store.pipelines) return together(writes.map((w) => w.fn(t)));
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
  const add = <T>(fn: (t: StoreTx) => Promise<T>, soon: boolean) =>
    new Promise<T>((resolve, reject) => {
      batch.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (soon && !scheduled) {
        // After the I/O of this turn: every envelope read in it joins the same transaction.
        scheduled = true;
        setImmediate(() => void flush());
      } else if (!soon && !scheduled && !waiting) {
        waiting = setTimeout(() => void flush(), LATER_MS);
      }
    });
  return Object.assign(<T>(fn: (t: StoreTx) => Promise<T>) => add(fn, true), {
    later: <T>(fn: (t: StoreTx) => Promise<T>) => add(fn, false),
  });
}

/**
 * A pipelining store's group: the writes run at once, their statements pipelined on the
 * transaction's connection. All have settled before it ends (none is left issuing statements
 * on a released connection); the first failure fails the transaction.
 */
async function together(running: Promise<unknown>[]): Promise<unknown[]> {
  const settled = await Promise.allSettled(running);
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value);
}
