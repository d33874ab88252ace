// Presence rows and named leases. SQLite serves one process per store, but that process
// shows itself (and finds the ones a crash left) the same way a cluster's instances do.
import type { Database, Statement } from "bun:sqlite";
import type { Instance } from "../../core/store.ts";
import { selectList } from "./columns.ts";

const COLUMNS = selectList<Instance>({
  id: "id",
  host: "host",
  startedAt: "started_at",
  lastSeenAt: "last_seen_at",
  stoppedAt: "stopped_at",
  takenOverBy: "taken_over_by",
});

export class SqliteInstances {
  private readonly renewQ: Statement;

  constructor(private readonly db: Database) {
    this.renewQ = db.prepare("UPDATE instances SET last_seen_at = ? WHERE id = ? AND stopped_at IS NULL AND taken_over_by IS NULL");
  }

  announce(id: string, host: string, now: number): void {
    this.db.run(
      `INSERT INTO instances (id, host, started_at, last_seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET host = excluded.host, started_at = excluded.started_at, last_seen_at = excluded.last_seen_at,
         stopped_at = NULL, taken_over_by = NULL`,
      [id, host, now, now],
    );
  }

  renew(id: string, now: number): boolean {
    return this.renewQ.run(now, id).changes === 1;
  }

  stop(id: string, now: number): void {
    this.db.run("UPDATE instances SET stopped_at = ? WHERE id = ? AND stopped_at IS NULL", [now, id]);
  }

  list(): Instance[] {
    return this.db.query<Instance, []>(`SELECT ${COLUMNS} FROM instances ORDER BY started_at, id`).all();
  }

  takeOver(id: string, by: string, silentSince: number): boolean {
    return (
      this.db.run("UPDATE instances SET taken_over_by = ? WHERE id = ? AND taken_over_by IS NULL AND (stopped_at IS NOT NULL OR last_seen_at < ?)", [
        by,
        id,
        silentSince,
      ]).changes === 1
    );
  }

  purge(before: number): number {
    return this.db.run("DELETE FROM instances WHERE taken_over_by IS NOT NULL AND last_seen_at < ?", [before]).changes;
  }
}

export class SqliteLeases {
  constructor(private readonly db: Database) {}

  acquire(name: string, owner: string, now: number, until: number): boolean {
    return (
      this.db.run(
        `INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, until = excluded.until WHERE leases.until < ? OR leases.owner = excluded.owner`,
        [name, owner, until, now],
      ).changes === 1
    );
  }

  release(name: string, owner: string): void {
    this.db.run("DELETE FROM leases WHERE name = ? AND owner = ?", [name, owner]);
  }

  releaseAll(owner: string): number {
    return this.db.run("DELETE FROM leases WHERE owner = ?", [owner]).changes;
  }
}
