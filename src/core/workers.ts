// Periodic tasks under supervision (seed 1.8): a task that throws is logged, counted and
// run again at its next tick; a task that keeps failing shows in health. No task can stop
// another, and none keeps running after stop().
import type { Clock, Timer } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { settleWithin } from "./wait.ts";

export interface WorkerStats {
  runs: number;
  failures: number;
  consecutive_failures: number;
  last_error?: string;
}

interface Worker {
  name: string;
  everyMs: number;
  fn: () => unknown | Promise<unknown>;
  timer: Timer | null;
  running: boolean;
  /** Triggered while running: runs again when this run ends, this much later (never two at once). */
  again: number | null;
  stats: WorkerStats;
}

/** After this many failures in a row a worker counts as unhealthy. */
export const FAILING_AFTER = 3;

export class Workers {
  private readonly workers = new Map<string, Worker>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  add(name: string, everyMs: number, fn: () => unknown | Promise<unknown>, { runNow = false } = {}): void {
    const w: Worker = { name, everyMs, fn, timer: null, running: false, again: null, stats: { runs: 0, failures: 0, consecutive_failures: 0 } };
    this.workers.set(name, w);
    this.arm(w, runNow ? 0 : everyMs);
  }

  /** Runs a worker now or in `delayMs` (and re-arms it), e.g. the catch-up after a reconnect; after its run if it is running. */
  trigger(name: string, delayMs = 0): void {
    const w = this.workers.get(name);
    if (!w) return;
    if (w.running) w.again = Math.min(w.again ?? delayMs, delayMs);
    else this.arm(w, delayMs);
  }

  stats(): Record<string, WorkerStats> {
    return Object.fromEntries([...this.workers.values()].map((w) => [w.name, { ...w.stats }]));
  }

  failing(): string[] {
    return [...this.workers.values()].filter((w) => w.stats.consecutive_failures >= FAILING_AFTER).map((w) => w.name);
  }

  /** No tick starts after this; resolves once runs in flight finished (or after `waitMs`), so none outlives the store. */
  stop(waitMs = 1000): Promise<void> {
    this.stopped = true;
    for (const w of this.workers.values()) if (w.timer) this.clock.clearTimeout(w.timer);
    return settleWithin(this.running, waitMs, this.clock);
  }

  private arm(w: Worker, delay: number): void {
    if (this.stopped) return;
    if (w.timer) this.clock.clearTimeout(w.timer);
    w.timer = this.clock.setTimeout(() => {
      const run = this.tick(w);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }, delay);
  }

  private async tick(w: Worker): Promise<void> {
    w.timer = null;
    if (this.stopped) return;
    w.running = true;
    try {
      await w.fn();
      w.stats.runs++;
      w.stats.consecutive_failures = 0;
    } catch (err) {
      w.stats.runs++;
      w.stats.failures++;
      w.stats.consecutive_failures++;
      w.stats.last_error = err instanceof Error ? err.message : String(err);
      // A run cut short by shutdown is not news.
      if (!this.stopped) this.log.error(`worker ${w.name} failed: ${w.stats.last_error} (failures in a row: ${w.stats.consecutive_failures})`);
    }
    w.running = false;
    // Re-armed after the run, so a slow run never overlaps itself.
    const again = w.again;
    w.again = null;
    this.arm(w, again ?? w.everyMs);
  }
}
