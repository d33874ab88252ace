// Checking that killed processes are gone: the kernel ends them a moment after the kill, so
// the check polls briefly instead of looking once.

const POLL_MS = 10;

/** Polls `cond` until it holds or `ms` passed; says whether it held. */
export async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (performance.now() >= end) return false;
    await Bun.sleep(POLL_MS);
  }
}

/** waitUntil for synchronous callers (the orphan check at start-up, before anything else runs). */
export function waitUntilSync(cond: () => boolean, ms: number): boolean {
  const end = performance.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (performance.now() >= end) return false;
    Bun.sleepSync(POLL_MS);
  }
}
