// Presence: every `run` process has a row in the store that it renews every few seconds.
// A peer that stopped, or stayed silent for the instance timeout while this instance could
// reach the store, is dead: one instance wins the takeover (a conditional update), frees
// its leases at once, and finishes its work (the caller's `takenOver`: report its jobs,
// answer its events). With SQLite there is one process per store, so every other instance
// on record is dead as soon as this one starts.
import type { JobPlace } from "./approvals.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import type { Approval, Instance, Store } from "./store.ts";

export interface PresenceOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  id: string;
  host: string;
  timeoutMs: number;
  /** SQLite: this process is the only one on the store. */
  exclusive: boolean;
  /** Work of dead instances became ours (their leases are free already): finish it. */
  takenOver(dead: Instance[]): Promise<void>;
}

export class Presence {
  /** Since when our renewals have succeeded without a gap; null while they fail. */
  private reachableSince: number | null = null;
  private known: Instance[] = [];
  /** Instances taken over whose work is not finished yet (takenOver failed): tried again each tick. */
  private owed: Instance[] = [];

  constructor(private readonly o: PresenceOptions) {}

  /** Registers this process; with SQLite, takes over whatever earlier processes left. */
  async start(): Promise<void> {
    const { store, clock, id, host } = this.o;
    const now = clock.now();
    const before = (await store.instances.list()).find((i) => i.id === id);
    if (before && before.stoppedAt === null && before.takenOverBy === null && before.lastSeenAt >= now - this.o.timeoutMs) {
      this.o.log.warn(
        `instance ${id} was last seen ${Math.round((now - before.lastSeenAt) / 1000)} s ago: if another clawdbot runs with this CLAWDBOT_INSTANCE_ID, give each its own`,
      );
    }
    await store.instances.announce(id, host, now);
    this.reachableSince = now;
    await this.sweep(this.o.exclusive);
  }

  /** The worker's tick: renew, then look for dead peers. Throws if the store cannot be written. */
  async tick(): Promise<void> {
    const { store, clock, log, id, host } = this.o;
    const now = clock.now();
    let renewed: boolean;
    try {
      renewed = await store.instances.renew(id, now);
    } catch (err) {
      this.reachableSince = null;
      throw err;
    }
    this.reachableSince ??= now;
    if (!renewed) {
      // Cut off long enough that the others took this instance for dead and took its work
      // over (its answers in flight are refused at commit; its running jobs were reported).
      log.warn(`instance ${id} was taken for dead by the cluster (no presence for ${this.o.timeoutMs / 1000} s); it carries on as a new instance`);
      await store.instances.announce(id, host, now);
    }
    await this.sweep(false);
  }

  /** A graceful stop: the others take what is left over at once. */
  async stop(): Promise<void> {
    await this.o.store.instances.stop(this.o.id, this.o.clock.now());
  }

  /** Live instances sharing the store, this one included, as of the last look. */
  get live(): number {
    const cutoff = this.o.clock.now() - this.o.timeoutMs;
    return this.known.filter((i) => i.id === this.o.id || (i.stoppedAt === null && i.takenOverBy === null && i.lastSeenAt >= cutoff)).length;
  }

  /**
   * Where a running job's process was, if the instance that ran it is dead; null while its
   * runner lives. This instance's own rows are from an earlier life of its id unless it runs
   * them now (the caller knows which it runs). A job started before runners were recorded is
   * from the one process a SQLite store had.
   */
  jobPlace(row: Approval): ReturnType<JobPlace> {
    if (row.runner === null || row.runner === this.o.id) return "here";
    const runner = this.known.find((i) => i.id === row.runner);
    if (runner && runner.takenOverBy === null) return null;
    return runner?.host === this.o.host || this.o.exclusive ? "here" : "elsewhere";
  }

  private async sweep(everyone: boolean): Promise<void> {
    const { store, clock, log, id } = this.o;
    const now = clock.now();
    this.known = await store.instances.list();
    // Silent only counts while we could see the store: after an outage everyone was silent.
    const reachable = this.reachableSince !== null && this.reachableSince <= now - this.o.timeoutMs;
    // 0: nobody counts as silent, only stopped instances are taken over.
    const silentSince = everyone ? now + 1 : reachable ? now - this.o.timeoutMs : 0;
    for (const peer of this.known) {
      if (peer.id === id || peer.takenOverBy !== null) continue;
      if (peer.stoppedAt === null && !(peer.lastSeenAt < silentSince)) continue;
      const taken = await store.tx(async (t) => {
        if (!(await t.instances.takeOver(peer.id, id, silentSince))) return false;
        await t.events.releaseLeases(peer.id);
        await t.outbox.releaseLeases(peer.id);
        await t.leases.releaseAll(peer.id);
        return true;
      });
      if (!taken) continue;
      this.owed.push(peer);
      const how = peer.stoppedAt !== null ? "stopped" : `silent for ${Math.round((now - peer.lastSeenAt) / 1000)} s`;
      log.warn(`instance ${peer.id} on ${peer.host} ${how}: its work is taken over by ${id}`, { instance: peer.id });
    }
    if (this.owed.length === 0) return;
    this.known = await store.instances.list();
    await this.o.takenOver(this.owed);
    this.owed = [];
  }
}
