// Whether the store can be written, as the last writes found it: health says
// `store_unavailable` while it cannot (the database unreachable, a full disk, the file locked
// for long), and the moment a write succeeds again the runtime looks for what arrived
// meanwhile. Only writes decide: with SQLite in WAL mode reads still work while writes fail.

export class StoreHealth {
  private problem: string | null = null;
  private failedAt = 0;

  constructor(
    private readonly o: {
      now(): number;
      /**
       * A write must succeed this long after the last failure to count as recovery: on a full
       * disk small updates may still fit while inserts fail, and health should not flap.
       */
      settleMs: number;
      onRecovered(): void;
    },
  ) {}

  /** Why the store cannot be written, or null while it can. */
  get unavailable(): string | null {
    return this.problem;
  }

  /** A write went through. */
  wrote(): void {
    if (this.problem === null || this.o.now() - this.failedAt < this.o.settleMs) return;
    this.problem = null;
    this.o.onRecovered();
  }

  /** A store call failed: `err` says why. */
  failed(err: unknown): void {
    this.problem = err instanceof Error ? err.message : String(err);
    this.failedAt = this.o.now();
  }
}
