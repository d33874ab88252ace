// Versioned schema, keyed by PRAGMA user_version. Append new steps; never edit old ones.
import type { Database } from "bun:sqlite";

const steps: string[] = [
  // 1: the first schema
  `
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );

  -- Every inbound envelope. key dedupes redeliveries: msg:<channel>:<ts> for messages
  -- addressed to the bot (so a mention seen as app_mention and again via catch-up is one),
  -- ev:<event_id> for other events, cmd:/act:<envelope or trigger> for commands and clicks.
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    channel TEXT,
    ts TEXT,
    thread_ts TEXT,
    user TEXT,
    text TEXT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT,
    -- The process working on a received event (host:pid) and until when; see leases.ts.
    lease_owner TEXT,
    lease_until INTEGER,
    received_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX events_status ON events(status, id);

  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    event_key TEXT,
    op TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    user TEXT,
    target_ts TEXT,
    response_url TEXT,
    text TEXT NOT NULL,
    blocks TEXT,
    fingerprint TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    -- A sender holds an item while it sends; a crashed sender's lease runs out.
    lease_owner TEXT,
    lease_until INTEGER,
    sent_ts TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX outbox_status ON outbox(status, next_attempt_at);
  CREATE INDEX outbox_fingerprint ON outbox(fingerprint, created_at);

  CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    card_ts TEXT,
    event_key TEXT,
    resume TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    exit_code INTEGER,
    output TEXT
  );
  CREATE INDEX approvals_status ON approvals(status, expires_at);

  CREATE TABLE usage (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    event_key TEXT
  );

  CREATE TABLE logs (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    level TEXT NOT NULL,
    msg TEXT NOT NULL,
    fields TEXT,
    bytes INTEGER NOT NULL
  );
  -- One row: the running size of the log, so an append never scans the table.
  CREATE TABLE log_size (id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL);
  INSERT INTO log_size (id, bytes) VALUES (1, 0);
  `,
  // 2: a running job's process id (its process group on POSIX), so a restart after a crash
  // can stop a job that outlived us; file uploads carry their content in the outbox row;
  // replay looks items up by event.
  `
  ALTER TABLE approvals ADD COLUMN pid INTEGER;
  ALTER TABLE outbox ADD COLUMN content TEXT;
  CREATE INDEX outbox_event_key ON outbox(event_key);
  `,
  // 3: an upload's file name (unique per item: how an uncertain upload is found again) and title.
  `
  ALTER TABLE outbox ADD COLUMN file_name TEXT;
  ALTER TABLE outbox ADD COLUMN file_title TEXT;
  `,
  // 4: usage rows older than the retention are folded into per-model totals, so the table
  // stays bounded while state dump's sums stay whole; an index for catch-up's questions.
  `
  CREATE TABLE usage_totals (
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    calls INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    PRIMARY KEY (provider, model)
  );
  CREATE INDEX usage_at ON usage(at);
  -- catch-up asks which conversations the bot took part in, and whether it knows one.
  CREATE INDEX events_channel ON events(channel, received_at);
  `,
  // 5: a card has copies (the asking channel, the approval channel, or a DM to each approver),
  // each with its own message; the decision remembers which copy it came through. An existing
  // card becomes its approval's one copy; approvals.card_ts is no longer read.
  `
  CREATE TABLE approval_cards (
    approval_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    card_ts TEXT,
    PRIMARY KEY (approval_id, channel)
  );
  INSERT INTO approval_cards (approval_id, seq, channel, thread_ts, card_ts) SELECT id, 0, channel, thread_ts, card_ts FROM approvals;
  ALTER TABLE approvals ADD COLUMN decided_in TEXT;
  `,
  // 6: the message an answer grows in while the agent works (a stream, or a message updated),
  // until its final answer is queued: what a restart after a crash finishes.
  `
  CREATE TABLE live_messages (
    event_key TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    ts TEXT,
    mode TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 7: presence and named leases (one process per SQLite store, but it shows itself the same
  // way a cluster's instances do), and which instance runs a job.
  `
  ALTER TABLE approvals ADD COLUMN runner TEXT;
  CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    stopped_at INTEGER,
    taken_over_by TEXT
  );
  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until INTEGER NOT NULL
  );
  `,
];


/** The schema version this file is at. */
export function schemaVersion(db: Database): number {
  return db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
}

/** The schema version this build migrates to. */
export const LATEST_SCHEMA_VERSION = steps.length;

export function migrate(db: Database): void {
  db.transaction(() => {
    const current = schemaVersion(db);
    if (current > steps.length) {
      throw new Error(`database schema v${current} is newer than this clawdbot (v${steps.length}); upgrade clawdbot`);
    }
    for (let v = current; v < steps.length; v++) {
      db.run(steps[v] as string);
      db.run(`PRAGMA user_version = ${v + 1}`);
    }
  }).immediate();
}
