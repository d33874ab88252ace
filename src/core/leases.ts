// Leases on events and outbox items name their holder: a `run` process by its instance id
// (see presence.ts, which frees a dead instance's leases when it takes its work over), a
// `replay` by host:pid. After a crash of a replay, the next start releases the leases of
// host:pid holders that no longer exist, so nothing waits for a lease to run out and
// nothing is taken from a live `replay` or bot.
import { hostname } from "node:os";
import type { Store } from "./store.ts";

export function leaseOwner(pid = process.pid): string {
  return `${hostname()}:${pid}`;
}

function isAlive(owner: string): boolean {
  const [host, pidText] = [owner.slice(0, owner.lastIndexOf(":")), owner.slice(owner.lastIndexOf(":") + 1)];
  if (host !== hostname()) return true; // another machine's process: trust its lease
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return true; // not a host:pid name: its lease runs out on its own
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Releases every lease whose holder is a dead host:pid process (instances are presence's); returns how many rows were freed. */
export async function releaseDeadLeases(store: Store, self: string): Promise<number> {
  const instances = new Set((await store.instances.list()).map((i) => i.id));
  let freed = 0;
  for (const owner of new Set([...(await store.outbox.leaseOwners()), ...(await store.events.leaseOwners())])) {
    if (owner === self || instances.has(owner) || isAlive(owner)) continue;
    freed += (await store.outbox.releaseLeases(owner)) + (await store.events.releaseLeases(owner));
  }
  return freed;
}
