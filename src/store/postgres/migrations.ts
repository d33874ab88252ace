// Versioned schema, one row per applied version in schema_version. Append new steps; never
// edit old ones. Every instance runs this at start, and only the first of a newer version
// changes anything: the steps run inside one transaction that holds an advisory lock, so
// instances starting at once apply each step once, and a failed step leaves nothing half done.
import { StoreError } from "../../core/store.ts";
import type { Sql } from "./sql.ts";

/** pg_advisory_xact_lock's key for migrations: any number no other application on the database uses. */
const MIGRATION_LOCK = 0x636c6177; // "claw"

export const steps: string[] = [
  // 1: the first schema (SQLite's steps 1-7 in one). Times are ms since the epoch.
  `
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
  );

  -- Every inbound envelope; key dedupes redeliveries (see the SQLite schema for its forms).
  CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    channel TEXT,
    ts TEXT,
    thread_ts TEXT,
    user_id TEXT,
    text TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT,
    -- The instance answering a received event, and until when.
    lease_owner TEXT,
    lease_until BIGINT,
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX events_status ON events (status, id);
  CREATE INDEX events_channel ON events (channel, received_at);

  CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    event_key TEXT,
    op TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    user_id TEXT,
    target_ts TEXT,
    response_url TEXT,
    text TEXT NOT NULL,
    blocks TEXT,
    fingerprint TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    lease_owner TEXT,
    lease_until BIGINT,
    sent_ts TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    content TEXT,
    file_name TEXT,
    file_title TEXT
  );
  CREATE INDEX outbox_status ON outbox (status, next_attempt_at);
  CREATE INDEX outbox_fingerprint ON outbox (fingerprint, created_at);
  CREATE INDEX outbox_event_key ON outbox (event_key);

  CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    event_key TEXT,
    resume TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    decided_in TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    exit_code INTEGER,
    output TEXT,
    pid INTEGER,
    runner TEXT
  );
  CREATE INDEX approvals_status ON approvals (status, expires_at);
  -- A card's copies (the asking channel, the approval channel, or each approver's DM).
  CREATE TABLE approval_cards (
    approval_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    card_ts TEXT,
    PRIMARY KEY (approval_id, channel)
  );

  -- The message an answer grows in while the agent works, until its final answer is queued.
  CREATE TABLE live_messages (
    event_key TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    ts TEXT,
    mode TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE usage (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL,
    event_key TEXT
  );
  CREATE INDEX usage_at ON usage (at);
  CREATE TABLE usage_totals (
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    calls BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    PRIMARY KEY (provider, model)
  );

  CREATE TABLE logs (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    level TEXT NOT NULL,
    msg TEXT NOT NULL,
    fields TEXT,
    bytes INTEGER NOT NULL
  );
  CREATE TABLE log_size (id INTEGER PRIMARY KEY CHECK (id = 1), bytes BIGINT NOT NULL);
  INSERT INTO log_size (id, bytes) VALUES (1, 0);

  CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    stopped_at BIGINT,
    taken_over_by TEXT
  );
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until BIGINT NOT NULL
  );
  `,
];

const VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";

/** The schema version of the database (0: no clawdbot schema in it). */
export async function schemaVersion(sql: Sql): Promise<number> {
  const [t] = await sql`SELECT to_regclass('schema_version') IS NOT NULL AS present`;
  if (!t?.present) return 0;
  const [row] = await sql`SELECT coalesce(max(version), 0)::int AS v FROM schema_version`;
  return Number(row?.v ?? 0);
}

export function newerSchema(location: string, found: number): StoreError {
  return new StoreError(
    location,
    `is at schema v${found}, newer than this clawdbot's v${steps.length}: another instance runs a newer clawdbot; upgrade this one to it`,
  );
}

/** Brings the schema up to this build's version, once, whoever else starts at the same moment. */
export async function migrate(sql: Sql, location: string, now: number): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx.unsafe(VERSION_TABLE);
    const current = await schemaVersion(tx);
    if (current > steps.length) throw newerSchema(location, current);
    for (let v = current; v < steps.length; v++) {
      await tx.unsafe(steps[v] as string);
      await tx`INSERT INTO schema_version (version, applied_at) VALUES (${v + 1}, ${now})`;
    }
  });
}
