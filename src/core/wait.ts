// Bounded waiting, for shutdown: wait for work in flight, but never past a deadline, and
// leave no timer behind to hold the process open.
import { type Clock, systemClock } from "./clock.ts";

/** Resolves when every promise settled, or after `ms`, whichever comes first. */
export function settleWithin(ps: Iterable<Promise<unknown>>, ms: number, clock: Clock = systemClock): Promise<void> {
  const all = [...ps];
  if (all.length === 0) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const t = clock.setTimeout(resolve, Math.max(0, ms));
    void Promise.allSettled(all).then(() => {
      clock.clearTimeout(t);
      resolve();
    });
  });
}
