// The one seam for time: production uses the system clock, tests may drive their own.
//
// Two readings. `now()` is wall time, for what is stored or shown (timestamps, an approval's
// expiry, an outbox item's retry time: they must mean the same after a restart and to the
// other processes sharing the store). `mono()` never jumps, for every interval and timeout
// measured in this process (liveness, staleness, uptime, deadlines): a wall clock set back
// an hour (NTP, a user, a VM resumed) must not delay them, nor one set forward fire them early.
export interface Clock {
  /** Milliseconds since the epoch; can jump. */
  now(): number;
  /** Milliseconds from an arbitrary origin, steady: only differences mean anything. */
  mono(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(t: Timer): void;
}

export type Timer = ReturnType<typeof setTimeout>;

export const systemClock: Clock = {
  now: () => Date.now(),
  mono: () => performance.now(),
  // Timers are steady already: Bun measures them on the monotonic clock.
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
};
