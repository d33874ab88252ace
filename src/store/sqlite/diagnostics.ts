// What `clawdbot doctor` asks of a SQLite store (usually opened read-only): is the file sound,
// can this process write to it. Nothing here changes what the store holds.
import type { Database } from "bun:sqlite";
import type { StoreDiagnostics } from "../../core/store.ts";
import type { ConnectionLock } from "./lock.ts";
import { LATEST_SCHEMA_VERSION } from "./migrations.ts";

/** Thrown to roll the probe's transaction back. */
class RolledBack extends Error {}

export function sqliteDiagnostics(db: Database, lock: ConnectionLock): StoreDiagnostics {
  return {
    latestSchemaVersion: LATEST_SCHEMA_VERSION,
    integrityProblems: () =>
      lock.run(() => {
        // quick_check: the integrity check without the index-content cross-checks, O(N) not O(N log N).
        const rows = db.query<{ quick_check: string }, []>("PRAGMA quick_check").all();
        return rows.map((r) => r.quick_check).filter((r) => r !== "ok");
      }),
    probeWrite: () =>
      lock.run(() => {
        // A read-only handle (query_only) is lifted for the probe alone.
        const queryOnly = db.query<{ query_only: number }, []>("PRAGMA query_only").get()?.query_only === 1;
        if (queryOnly) db.run("PRAGMA query_only = OFF");
        try {
          db.transaction(() => {
            db.run("INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES ('doctor.probe', '', 0)");
            throw new RolledBack();
          }).immediate();
        } catch (err) {
          if (!(err instanceof RolledBack)) throw err;
        } finally {
          if (queryOnly) db.run("PRAGMA query_only = ON");
        }
      }),
  };
}
