// Presence rows and the cluster's named leases. Each is a conditional statement, so of two
// instances racing (to take over a dead peer, to start catch-up) exactly one wins.
import type { Instance, InstancesRepo, LeasesRepo } from "../../core/store.ts";
import { rows, type Sql, selectList } from "./sql.ts";

const COLUMNS = selectList<Instance>({
  id: "id",
  host: "host",
  startedAt: "started_at",
  lastSeenAt: "last_seen_at",
  stoppedAt: "stopped_at",
  takenOverBy: "taken_over_by",
});

export class PgInstances implements InstancesRepo {
  constructor(private readonly sql: Sql) {}

  async announce(id: string, host: string, now: number): Promise<void> {
    await this.sql`
      INSERT INTO instances (id, host, started_at, last_seen_at) VALUES (${id}, ${host}, ${now}, ${now})
      ON CONFLICT (id) DO UPDATE SET host = excluded.host, started_at = excluded.started_at, last_seen_at = excluded.last_seen_at,
        stopped_at = NULL, taken_over_by = NULL`;
  }

  async renew(id: string, now: number): Promise<boolean> {
    const r = await this.sql`UPDATE instances SET last_seen_at = ${now} WHERE id = ${id} AND stopped_at IS NULL AND taken_over_by IS NULL`;
    return r.affectedRows === 1;
  }

  async stop(id: string, now: number): Promise<void> {
    await this.sql`UPDATE instances SET stopped_at = ${now} WHERE id = ${id} AND stopped_at IS NULL`;
  }

  async list(): Promise<Instance[]> {
    return rows<Instance>(await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM instances ORDER BY started_at, id`, [
      "startedAt",
      "lastSeenAt",
      "stoppedAt",
    ]);
  }

  async takeOver(id: string, by: string, silentSince: number): Promise<boolean> {
    const r = await this.sql`
      UPDATE instances SET taken_over_by = ${by}
      WHERE id = ${id} AND taken_over_by IS NULL AND (stopped_at IS NOT NULL OR last_seen_at < ${silentSince})`;
    return r.affectedRows === 1;
  }

  async purge(before: number): Promise<number> {
    return (await this.sql`DELETE FROM instances WHERE taken_over_by IS NOT NULL AND last_seen_at < ${before}`).affectedRows;
  }
}

export class PgLeases implements LeasesRepo {
  constructor(private readonly sql: Sql) {}

  async acquire(name: string, owner: string, now: number, until: number): Promise<boolean> {
    const r = await this.sql`
      INSERT INTO leases (name, owner, until) VALUES (${name}, ${owner}, ${until})
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
      WHERE leases.until < ${now} OR leases.owner = excluded.owner`;
    return r.affectedRows === 1;
  }

  async release(name: string, owner: string): Promise<void> {
    await this.sql`DELETE FROM leases WHERE name = ${name} AND owner = ${owner}`;
  }

  async releaseAll(owner: string): Promise<number> {
    return (await this.sql`DELETE FROM leases WHERE owner = ${owner}`).affectedRows;
  }
}
