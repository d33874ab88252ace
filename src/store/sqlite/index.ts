// The store on one SQLite file (bun:sqlite), one module per table. The tables' classes are
// synchronous; this wraps them into the core's async port. Every call through the root store
// takes its turn on the one connection (ConnectionLock): while a transaction is open, other
// tasks' calls wait until it ends, and calls through the transaction's handle run directly.
//
// Another process's write lock (a `replay`, or something holding the file for long) is waited
// for asynchronously: SQLite's own busy wait blocks the thread, so it is kept to a moment and
// a busy write is tried again after a pause, up to the busy timeout. Meanwhile the process
// answers health and everything else; after it, the call fails (health: store_unavailable).
import type { Database, Statement } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  type ApprovalsRepo,
  type EventsRepo,
  type InstancesRepo,
  type LeasesRepo,
  type LiveRepo,
  type LogsRepo,
  type OutboxRepo,
  type SettingsRepo,
  type Store,
  StoreError,
  type StoreDiagnostics,
  type StoreTx,
  type UsageRepo,
} from "../../core/store.ts";
import { SqliteApprovals } from "./approvals.ts";
import { type BackgroundCheckpoints, checkpointInBackground, OWN_CHECKPOINT_PAGES } from "./checkpoints.ts";
import { sqliteDiagnostics } from "./diagnostics.ts";
import { SqliteEvents } from "./events.ts";
import { SqliteInstances, SqliteLeases } from "./instances.ts";
import { SqliteLive } from "./live.ts";
import { ConnectionLock } from "./lock.ts";
import { SqliteLogs } from "./logs.ts";
import { schemaVersion } from "./migrations.ts";
import { BUSY_TIMEOUT_MS, openDatabase, SYNC_BUSY_MS } from "./open.ts";
import { SqliteOutbox } from "./outbox.ts";
import { SqliteSettings } from "./settings.ts";
import { SqliteUsage } from "./usage.ts";

const DB_FILE = "clawdbot.db";

export interface SqliteOptions {
  /** The log store's bound (CLAWDBOT_LOG_RETENTION_MB). */
  logRetentionBytes?: number;
  /** Read-only (state dump): no migrations, no writes, nothing left behind. */
  readonly?: boolean;
  /** WAL checkpoints in a worker thread, off the event loop (the bot); else on the connection's own commits. */
  backgroundCheckpoints?: boolean;
  /** How long a write waits for another process's lock (and a call for this process's transaction) before it fails. */
  busyTimeoutMs?: number;
}

/** The store file in a data dir. */
export function sqlitePath(dataDir: string): string {
  return join(dataDir, DB_FILE);
}

export function openSqliteStore(path: string, opts: SqliteOptions = {}): SqliteStore {
  if (opts.readonly && !existsSync(path)) throw new StoreError(path, "does not exist; has clawdbot run here yet?");
  return new SqliteStore(openDatabase(path, { readonly: opts.readonly, busyTimeoutMs: opts.busyTimeoutMs }), path, opts);
}

type Run = <R>(fn: () => R) => Promise<R>;

/** SQLITE_BUSY (and its extended codes): another connection holds the lock. */
function isBusy(err: unknown): boolean {
  return String((err as { code?: unknown }).code ?? "").startsWith("SQLITE_BUSY");
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
type Async<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never };

/** The async face of a table's class: each method runs through `run`. */
function wrap<T extends object>(table: T, run: Run): Async<T> {
  const out: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(table))) {
    const method = (table as Record<string, unknown>)[name];
    if (name === "constructor" || typeof method !== "function") continue;
    out[name] = (...args: unknown[]) => run(() => method.apply(table, args));
  }
  return out as Async<T>;
}

interface Tables {
  settings: SqliteSettings;
  events: SqliteEvents;
  outbox: SqliteOutbox;
  approvals: SqliteApprovals;
  usage: SqliteUsage;
  logs: SqliteLogs;
  instances: SqliteInstances;
  leases: SqliteLeases;
  live: SqliteLive;
}

function facade(t: Tables, run: Run): StoreTx {
  return {
    settings: wrap(t.settings, run),
    events: wrap(t.events, run),
    outbox: wrap(t.outbox, run),
    approvals: wrap(t.approvals, run),
    usage: wrap(t.usage, run),
    logs: wrap(t.logs, run),
    instances: wrap(t.instances, run),
    leases: wrap(t.leases, run),
    live: wrap(t.live, run),
  };
}

export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  readonly settings: SettingsRepo;
  readonly events: EventsRepo;
  readonly outbox: OutboxRepo;
  readonly approvals: ApprovalsRepo;
  readonly usage: UsageRepo;
  readonly logs: LogsRepo;
  readonly instances: InstancesRepo;
  readonly leases: LeasesRepo;
  readonly live: LiveRepo;
  private readonly lock: ConnectionLock;
  /** The transaction's handle: the same tables, called directly (the lock is held). */
  private readonly inTx: StoreTx;
  private readonly begin: Statement;
  private readonly beginRead: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly busyTimeoutMs: number;
  private closed = false;
  private readonly checkpoints: BackgroundCheckpoints | null;

  constructor(
    private readonly db: Database,
    readonly location: string,
    private readonly opts: SqliteOptions,
  ) {
    this.busyTimeoutMs = opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
    this.lock = new ConnectionLock(location, this.busyTimeoutMs);
    // Opening waited the whole busy timeout (migrations); from here on, longer waits are async.
    db.run(`PRAGMA busy_timeout = ${SYNC_BUSY_MS}`);
    const tables: Tables = {
      settings: new SqliteSettings(db),
      events: new SqliteEvents(db),
      outbox: new SqliteOutbox(db),
      approvals: new SqliteApprovals(db),
      usage: new SqliteUsage(db),
      logs: new SqliteLogs(db, opts.logRetentionBytes ?? 20 * 1024 * 1024),
      instances: new SqliteInstances(db),
      leases: new SqliteLeases(db),
      live: new SqliteLive(db),
    };
    const root = facade(tables, (fn) => this.lock.run(fn).catch((err) => this.whenFree(err, () => this.lock.run(fn))));
    this.settings = root.settings;
    this.events = root.events;
    this.outbox = root.outbox;
    this.approvals = root.approvals;
    this.usage = root.usage;
    this.logs = root.logs;
    this.instances = root.instances;
    this.leases = root.leases;
    this.live = root.live;
    this.inTx = facade(tables, (fn) => {
      if (!this.lock.inTransaction) return Promise.reject(new StoreError(location, "was used through a transaction's handle after the transaction ended"));
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      }
    });
    // Write transactions take the write lock up front, so two processes never deadlock upgrading.
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.beginRead = db.prepare("BEGIN DEFERRED");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
    this.checkpoints = opts.backgroundCheckpoints && !opts.readonly ? checkpointInBackground(location) : null;
    if (this.checkpoints) db.run(`PRAGMA wal_autocheckpoint = ${OWN_CHECKPOINT_PAGES}`);
  }

  tx<T>(fn: (t: StoreTx) => Promise<T>): Promise<T> {
    return this.transaction(this.begin, fn);
  }

  read<T>(fn: (t: StoreTx) => Promise<T>): Promise<T> {
    return this.transaction(this.beginRead, fn);
  }

  /** A call that found the file busy, tried again after growing pauses until the busy timeout. */
  private async whenFree<R>(err: unknown, again: () => Promise<R>): Promise<R> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
      if (!isBusy(err)) throw err;
      if (Date.now() >= deadline) throw this.lockedTooLong();
      await pause(wait);
      try {
        return await again();
      } catch (next) {
        err = next;
      }
    }
  }

  private lockedTooLong(): StoreError {
    return new StoreError(
      this.location,
      `is locked by another process: a write waited ${this.busyTimeoutMs / 1000} s for it (stop whatever holds the file: another clawdbot, a backup tool)`,
    );
  }

  /** Takes the connection and begins; a file another process has locked is waited for without holding the connection. */
  private async begun(begin: Statement): Promise<void> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
      const turn = this.lock.acquire();
      if (turn) await turn;
      try {
        begin.run();
        return;
      } catch (err) {
        this.lock.release();
        if (!isBusy(err)) throw err;
        if (Date.now() >= deadline) throw this.lockedTooLong();
      }
      await pause(wait);
    }
  }

  private async transaction<T>(begin: Statement, fn: (t: StoreTx) => Promise<T>): Promise<T> {
    await this.begun(begin);
    try {
      let result: T;
      try {
        result = await fn(this.inTx);
        this.commit.run();
      } catch (err) {
        // SQLite may have rolled back already (a failed COMMIT, a full disk).
        if (this.db.inTransaction) this.rollback.run();
        throw err;
      }
      return result;
    } finally {
      this.lock.release();
    }
  }

  schemaVersion(): Promise<number> {
    return this.lock.run(() => schemaVersion(this.db));
  }

  diagnostics(): StoreDiagnostics {
    return sqliteDiagnostics(this.db, this.lock);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Its connection goes first: the last one to close folds the WAL in and removes it.
    await this.checkpoints?.stop();
    // Calls already waiting for their turn run first.
    const wait = this.lock.acquire();
    if (wait) await wait;
    if (!this.opts.readonly) {
      try {
        // Fold the WAL back into the main file so a copied .db is complete.
        this.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch {
        // A reader (state dump) or a busy peer: the WAL stays, which is fine.
      }
    }
    // close(true): finalize our prepared statements and release the file now, so the last
    // process to close removes the WAL files and a stopped bot leaves one complete .db file.
    try {
      this.db.close(true);
    } catch {
      this.db.close();
    }
    this.lock.release();
  }
}
