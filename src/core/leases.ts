// Leases name their holder as host:pid. After a crash (kill -9, Task Scheduler's End) the
// next start releases the leases of processes that no longer exist, so nothing waits for
// a lease to run out and nothing is taken from a live `replay` or bot.
import { hostname } from "node:os";
import type { Store } from "./store.ts";

export function leaseOwner(pid = process.pid): string {
  return `${hostname()}:${pid}`;
}

function isAlive(owner: string): boolean {
  const [host, pidText] = [owner.slice(0, owner.lastIndexOf(":")), owner.slice(owner.lastIndexOf(":") + 1)];
  if (host !== hostname()) return true; // another machine's process: trust its lease
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Releases every lease whose holder is dead; returns how many rows were freed. */
export async function releaseDeadLeases(store: Store, self: string): Promise<number> {
  let freed = 0;
  for (const owner of new Set([...(await store.outbox.leaseOwners()), ...(await store.events.leaseOwners())])) {
    if (owner === self || isAlive(owner)) continue;
    freed += (await store.outbox.releaseLeases(owner)) + (await store.events.releaseLeases(owner));
  }
  return freed;
}
