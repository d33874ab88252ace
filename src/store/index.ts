// The store: one SQLite file, one module per table. Callers never write SQL; a shared
// backend (Postgres) would implement these same classes' methods.
import type { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ApprovalStore } from "./approvals.ts";
import { DB_FILE, immediate, openDatabase, StoreError } from "./db.ts";
import { EventStore } from "./events.ts";
import { LogStore } from "./logs.ts";
import { OutboxStore } from "./outbox.ts";
import { SettingsStore } from "./settings.ts";
import { UsageStore } from "./usage.ts";

export { StoreError } from "./db.ts";

export interface StoreOptions {
  /** The log store's bound (CLAWDBOT_LOG_RETENTION_MB). */
  logRetentionBytes?: number;
  readonly?: boolean;
}

export class Store {
  readonly settings: SettingsStore;
  readonly events: EventStore;
  readonly outbox: OutboxStore;
  readonly approvals: ApprovalStore;
  readonly usage: UsageStore;
  readonly logs: LogStore;

  private constructor(
    readonly db: Database,
    readonly path: string,
    logRetentionBytes: number,
  ) {
    this.settings = new SettingsStore(db);
    this.events = new EventStore(db);
    this.outbox = new OutboxStore(db);
    this.approvals = new ApprovalStore(db);
    this.usage = new UsageStore(db);
    this.logs = new LogStore(db, logRetentionBytes);
  }

  static pathIn(dataDir: string): string {
    return join(dataDir, DB_FILE);
  }

  static open(path: string, opts: StoreOptions = {}): Store {
    if (opts.readonly && !existsSync(path)) throw new StoreError(`no store at ${path}; has clawdbot run here yet?`);
    const db = openDatabase(path, { readonly: opts.readonly });
    return new Store(db, path, opts.logRetentionBytes ?? 20 * 1024 * 1024);
  }

  /** Runs fn as one write transaction (all of it lands, or none). */
  tx<T>(fn: () => T): T {
    return immediate(this.db, fn);
  }

  close(): void {
    try {
      // Fold the WAL back into the main file so a copied .db is complete.
      this.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch {
      // A reader (state dump) or a busy peer: the WAL stays, which is fine.
    }
    // close(true): finalize our prepared statements and release the file now, so the last
    // process to close removes the WAL files and a stopped bot leaves one complete .db file.
    try {
      this.db.close(true);
    } catch {
      this.db.close();
    }
  }
}
