// One SQLite connection, many async tasks: while one task's transaction is open on the
// connection, another task's statement must not run inside it (it would commit or roll back
// with it). Statements and transactions take turns here, in order of arrival.
//
// Uncontended, a statement runs at once, synchronously: no timer, no extra promise turn. Only
// a call that has to wait is queued; and a wait longer than `maxWaitMs` (a transaction body
// that awaits the root store, or something slow, holding the connection) fails that call with
// a StoreError instead of hanging every store call of the process.
import { StoreError } from "../../core/store.ts";

type Waiter = { kind: "op"; run(): void; fail(err: Error): void } | { kind: "tx"; go(): void; fail(err: Error): void };

export class ConnectionLock {
  private held = false;
  private readonly queue: Waiter[] = [];
  private watchdog: ReturnType<typeof setTimeout> | null = null;
  /** Counts transactions, so the watchdog knows whether the one holding the lock is the one it saw. */
  private turn = 0;

  constructor(
    /** The store's name, for the error. */
    private readonly location: string,
    private readonly maxWaitMs: number,
  ) {}

  /** True while a transaction holds the connection. */
  get inTransaction(): boolean {
    return this.held;
  }

  /** Runs one synchronous store call now if nothing holds the connection, else in its turn. */
  run<T>(fn: () => T): Promise<T> {
    if (!this.held && this.queue.length === 0) {
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.enqueue({
        kind: "op",
        run: () => {
          try {
            resolve(fn());
          } catch (err) {
            reject(err);
          }
        },
        fail: reject,
      });
    });
  }

  /** Takes the connection for a transaction; undefined when it was free (taken at once). */
  acquire(): Promise<void> | undefined {
    if (!this.held && this.queue.length === 0) {
      this.held = true;
      this.turn++;
      return undefined;
    }
    return new Promise<void>((go, fail) => this.enqueue({ kind: "tx", go, fail }));
  }

  /** The transaction is over: the calls that waited run, in order, up to the next transaction. */
  release(): void {
    this.held = false;
    while (!this.held) {
      const next = this.queue.shift();
      if (!next) break;
      if (next.kind === "op") next.run();
      else {
        this.held = true;
        this.turn++;
        next.go();
      }
    }
    if (this.queue.length === 0) this.disarm();
    else this.arm();
  }

  private enqueue(w: Waiter): void {
    this.queue.push(w);
    if (!this.watchdog) this.arm();
  }

  private arm(): void {
    this.disarm();
    const turn = this.turn;
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      if (!this.held || this.turn !== turn) return;
      const err = new StoreError(
        this.location,
        `was held by one transaction for over ${this.maxWaitMs / 1000} s; ${this.queue.length} store calls waiting for it failed`,
      );
      for (const w of this.queue.splice(0)) w.fail(err);
    }, this.maxWaitMs);
    // A waiting store call must not keep a stopping process alive on its own.
    (this.watchdog as { unref?: () => void }).unref?.();
  }

  private disarm(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }
}
