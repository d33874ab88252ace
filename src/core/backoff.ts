// Delay before reconnect attempt n after n consecutive failures: the first attempt after a
// drop is immediate (n = 0), then initial, doubling to max, plus up to 30% jitter so a
// fleet of bots does not reconnect in step.
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0..1; injectable so tests can pin it. */
  random?: () => number;
}

export const JITTER = 0.3;

export function backoffDelay(failures: number, p: BackoffPolicy): number {
  if (failures <= 0) return 0;
  const base = Math.min(p.initialMs * 2 ** Math.min(failures - 1, 30), p.maxMs);
  const jitter = base * JITTER * (p.random ?? Math.random)();
  // At the cap the jitter goes below it: capping base + jitter would put a fleet back in step.
  return base + jitter <= p.maxMs ? base + jitter : p.maxMs - jitter;
}
