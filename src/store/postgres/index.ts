// The store on a shared PostgreSQL database (Bun's built-in client, Bun.sql): the cluster's
// store. One module per table; this one holds the pool, transactions and error mapping.
//
// Every call through the root store takes a connection of the pool (queries share them; a
// transaction reserves one), has a deadline, and fails as a StoreError naming the database
// without its password. Inside tx(fn), fn's calls go through the transaction's client.
import { SQL } from "bun";
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
  type StoreDiagnostics,
  StoreError,
  type StoreTx,
  StoreUnreachable,
  type UsageRepo,
} from "../../core/store.ts";
import { PgApprovals } from "./approvals.ts";
import { PgEvents } from "./events.ts";
import { PgInstances, PgLeases } from "./instances.ts";
import { PgLive } from "./live.ts";
import { PgLogs } from "./logs.ts";
import { migrate, schemaVersion, steps } from "./migrations.ts";
import { PgOutbox } from "./outbox.ts";
import { PgSettings, SharedRead } from "./settings.ts";
import type { Sql } from "./sql.ts";
import { type Transaction, transaction } from "./transaction.ts";
import { PgUsage } from "./usage.ts";
import { withoutPassword } from "./url.ts";

export { isPostgresUrl, withoutPassword } from "./url.ts";

export interface PostgresOptions {
  logRetentionBytes?: number;
  /** Read-only (state dump): no migrations, every transaction read-only. */
  readonly?: boolean;
  /** A root call without an answer by then fails (the database or the network hangs). */
  callTimeoutMs?: number;
}

/**
 * Connections per instance. Plain queries share the open connections (the client pipelines
 * them), so the pool bounds concurrent transactions, which are short (a few statements, no
 * Slack or agent call inside). Four keep a burst's transactions from queueing behind each
 * other, cost the server a few backends per instance (ten instances use 40 of PostgreSQL's
 * default 100 max_connections), and suit a small host. `?max=N` in the URL overrides it.
 */
export const POOL_SIZE = 4;
/** A connection attempt that takes longer fails (the default 30 s would stall start-up and health). */
const CONNECT_TIMEOUT_S = 10;
/** A transaction left open by a lost client stops holding its locks after this (server side). */
const IDLE_IN_TX_MS = 60_000;
const CALL_TIMEOUT_MS = 15_000;

type Call = <R>(fn: () => Promise<R>) => Promise<R>;

/** The table classes behind one face: each method call goes through `call`. */
function guard<T extends object>(table: T, call: Call): T {
  const out: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(table))) {
    const method = (table as Record<string, unknown>)[name];
    if (name === "constructor" || typeof method !== "function") continue;
    out[name] = (...args: unknown[]) => call(() => method.apply(table, args));
  }
  return out as T;
}

/** `settings`: the root's settings, or a transaction's (with its own shared reads); `tx`: the write transaction sql is on. */
function tables(sql: Sql, retentionBytes: number, settings = new PgSettings(sql), tx?: Transaction): StoreTx {
  return {
    settings,
    events: new PgEvents(sql, tx),
    outbox: new PgOutbox(sql, tx),
    approvals: new PgApprovals(sql),
    usage: new PgUsage(sql),
    logs: new PgLogs(sql, retentionBytes),
    instances: new PgInstances(sql),
    leases: new PgLeases(sql),
    live: new PgLive(sql, tx),
  };
}

function guardAll(t: StoreTx, call: Call): StoreTx {
  return {
    settings: guard(t.settings, call),
    events: guard(t.events, call),
    outbox: guard(t.outbox, call),
    approvals: guard(t.approvals, call),
    usage: guard(t.usage, call),
    logs: guard(t.logs, call),
    instances: guard(t.instances, call),
    leases: guard(t.leases, call),
    live: guard(t.live, call),
  };
}

/** Server errors that mean "not now" rather than "wrong": shutting down, starting, out of connections, connection lost. */
function unreachable(err: { code?: string; errno?: string }): boolean {
  const code = err.code ?? "";
  if (/^ERR_POSTGRES_(CONNECTION_|IDLE_TIMEOUT|LIFETIME_TIMEOUT)/.test(code)) return true;
  if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"].includes(code)) return true;
  const state = err.errno ?? "";
  return state.startsWith("08") || state.startsWith("57P") || state === "53300";
}

/** What went wrong, as a StoreError naming the database (never its password). */
export function storeProblem(location: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { code?: string; errno?: string; message?: string };
  const msg = e.message ?? String(err);
  if (unreachable(e)) return new StoreUnreachable(location, `cannot be reached (${msg}): is PostgreSQL running and reachable from here?`);
  if (e.errno === "28P01" || e.errno === "28000") return new StoreError(location, `refused the login (${msg}): check the user and password in CLAWDBOT_DATABASE_URL`);
  if (e.errno === "3D000") return new StoreError(location, `does not exist (${msg}): create the database (createdb) or fix its name in CLAWDBOT_DATABASE_URL`);
  if (/TLS|SSL|CERT/i.test(e.code ?? "") || /certificate/i.test(msg)) {
    return new StoreError(location, `refused the TLS connection (${msg}): check sslmode (and sslrootcert) in CLAWDBOT_DATABASE_URL`);
  }
  return new StoreError(location, `failed: ${msg}`);
}

/** Opens the pool and brings the schema to this build's version; throws a StoreError. */
export async function openPostgresStore(url: string, opts: PostgresOptions = {}): Promise<PostgresStore> {
  const location = withoutPassword(url);
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ""));
  const sql = new SQL(url, {
    // The URL's own ?max= and ?connect_timeout= win over ours.
    ...(u.searchParams.has("max") ? {} : { max: opts.readonly ? 1 : POOL_SIZE }),
    ...(u.searchParams.has("connect_timeout") ? {} : { connectionTimeout: CONNECT_TIMEOUT_S }),
    // Named here so that PGDATABASE in the environment cannot point us at another database.
    ...(database ? { database } : {}),
    connection: {
      application_name: "clawdbot",
      idle_in_transaction_session_timeout: IDLE_IN_TX_MS,
      ...(opts.readonly ? { default_transaction_read_only: "on" } : {}),
    },
  });
  try {
    if (opts.readonly) {
      if ((await schemaVersion(sql)) === 0) throw new StoreError(location, "holds no clawdbot data (no schema): has a clawdbot instance run with it yet?");
    } else {
      await migrate(sql, location, Date.now());
    }
  } catch (err) {
    await sql.close({ timeout: 0 }).catch(() => {});
    throw storeProblem(location, err);
  }
  return new PostgresStore(sql, location, opts);
}

export class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  readonly pipelines = true;
  readonly settings: SettingsRepo;
  readonly events: EventsRepo;
  readonly outbox: OutboxRepo;
  readonly approvals: ApprovalsRepo;
  readonly usage: UsageRepo;
  readonly logs: LogsRepo;
  readonly instances: InstancesRepo;
  readonly leases: LeasesRepo;
  readonly live: LiveRepo;
  private readonly retentionBytes: number;
  private readonly callTimeoutMs: number;
  /** The root's kill switch reads (see SharedRead). */
  private readonly pausedReads = new SharedRead();

  constructor(
    private readonly sql: SQL,
    readonly location: string,
    opts: PostgresOptions,
  ) {
    this.retentionBytes = opts.logRetentionBytes ?? 20 * 1024 * 1024;
    this.callTimeoutMs = opts.callTimeoutMs ?? CALL_TIMEOUT_MS;
    const root = guardAll(tables(sql, this.retentionBytes, new PgSettings(sql, this.pausedReads)), (fn) => this.call(fn));
    this.settings = root.settings;
    this.events = root.events;
    this.outbox = root.outbox;
    this.approvals = root.approvals;
    this.usage = root.usage;
    this.logs = root.logs;
    this.instances = root.instances;
    this.leases = root.leases;
    this.live = root.live;
  }

  /** A call with a deadline: a hung database or network fails it instead of stalling the caller. */
  private async call<R>(fn: () => Promise<R>): Promise<R> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreUnreachable(this.location, `did not answer within ${this.callTimeoutMs / 1000} s: is PostgreSQL or the network to it hanging?`)),
        this.callTimeoutMs,
      );
    });
    try {
      return await Promise.race([fn(), late]);
    } catch (err) {
      throw storeProblem(this.location, err);
    } finally {
      clearTimeout(timer);
    }
  }

  tx<T>(fn: (t: StoreTx) => Promise<T>): Promise<T> {
    return this.call(async () => {
      let wrote = false;
      try {
        return await transaction(this.sql, (tx) => fn(tables(tx.sql, this.retentionBytes, new PgSettings(tx.sql, undefined, () => (wrote = true)), tx)));
      } finally {
        // Committed or not known: the root's reads from now on see it.
        if (wrote) this.pausedReads.forget();
      }
    });
  }

  read<T>(fn: (t: StoreTx) => Promise<T>): Promise<T> {
    return this.call(() => this.sql.begin("isolation level repeatable read read only", (tx) => fn(tables(tx, this.retentionBytes))) as Promise<T>);
  }

  schemaVersion(): Promise<number> {
    return this.call(() => schemaVersion(this.sql));
  }

  diagnostics(): StoreDiagnostics {
    return {
      latestSchemaVersion: steps.length,
      // PostgreSQL checks its own pages (checksums, WAL); there is no cheap whole-database check to run from here.
      integrityProblems: async () => [],
      probeWrite: () =>
        this.call(async () => {
          // Written and rolled back: proves this login may write, leaves nothing.
          const rolledBack = new Error("probe rolled back");
          await this.sql
            .begin("read write", async (tx) => {
              await tx`INSERT INTO settings (key, value, updated_at) VALUES ('doctor.probe', '', 0) ON CONFLICT (key) DO NOTHING`;
              throw rolledBack;
            })
            .catch((err) => {
              if (err !== rolledBack) throw err;
            });
        }),
    };
  }

  async close(): Promise<void> {
    // Running queries finish (a few seconds at most); nothing starts after this.
    await this.sql.close({ timeout: 5 });
  }
}
