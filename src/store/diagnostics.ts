// What `clawdbot doctor` asks of a store opened read-only: is it sound, which schema is it at,
// can this process write to it. Nothing here changes what the store holds.
import { Database } from "bun:sqlite";
import type { Store } from "./index.ts";
import { migrate } from "./migrations.ts";

export interface StoreDiagnostics {
  /** What SQLite's quick_check finds wrong; empty when the file is sound. */
  integrityCheck(): Promise<string[]>;
  /** The schema version the store is at. */
  schemaVersion(): Promise<number>;
  /** The newest schema version this build knows (what `run` would migrate it to). */
  latestSchemaVersion(): Promise<number>;
  /** Takes the write lock and writes a row in a transaction that is rolled back; throws if it cannot. */
  probeWrite(): Promise<void>;
  /** Releases the file without checkpointing (a reader has no business folding the WAL). */
  close(): Promise<void>;
}

const version = (db: Database): number => db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;

/** The store must have been opened with `{readonly: true}`: nothing is migrated. */
export function diagnose(store: Store): StoreDiagnostics {
  const { db } = store;
  return {
    async integrityCheck() {
      // quick_check: the integrity check without the index-content cross-checks, O(N) not O(N log N).
      const rows = db.query<{ quick_check: string }, []>("PRAGMA quick_check").all();
      return rows.map((r) => r.quick_check).filter((r) => r !== "ok");
    },
    async schemaVersion() {
      return version(db);
    },
    async latestSchemaVersion() {
      // The migrations keep their steps to themselves: count them by running them on nothing.
      const scratch = new Database(":memory:");
      try {
        migrate(scratch);
        return version(scratch);
      } finally {
        scratch.close();
      }
    },
    async probeWrite() {
      db.run("PRAGMA query_only = OFF");
      try {
        db.transaction(() => {
          db.run("INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES ('doctor.probe', '', 0)");
          throw new RolledBack();
        }).immediate();
      } catch (err) {
        if (!(err instanceof RolledBack)) throw err;
      } finally {
        db.run("PRAGMA query_only = ON");
      }
    },
    async close() {
      db.close(true);
    },
  };
}

/** Thrown to roll the probe's transaction back. */
class RolledBack extends Error {}
