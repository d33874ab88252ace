// The durable outbox: every reply is a row before it is a Slack message.
// pending → sending (leased) → sent | failed | pending again (retry); suppressed for duplicates
// (and for an upload Slack refused, once its content was queued as messages instead).
import type { Database, Statement } from "bun:sqlite";

export type OutboxOp = "post" | "ephemeral" | "update" | "respond" | "upload";
export type OutboxStatus = "pending" | "sending" | "sent" | "failed" | "suppressed";

export interface NewOutbox {
  eventKey?: string;
  op: OutboxOp;
  channel: string;
  threadTs?: string;
  user?: string;
  targetTs?: string;
  responseUrl?: string;
  text: string;
  blocks?: unknown[];
  fingerprint?: string;
  status?: "pending" | "suppressed";
  /** upload: the file's content; `text` is its comment. due() leaves it out: read it with content(). */
  content?: string;
  /** upload: unique per item, so an uncertain upload can be found in the thread. */
  fileName?: string;
  fileTitle?: string;
}

export interface OutboxRow {
  id: number;
  event_key: string | null;
  op: OutboxOp;
  channel: string;
  thread_ts: string | null;
  user: string | null;
  target_ts: string | null;
  response_url: string | null;
  text: string;
  blocks: string | null;
  fingerprint: string | null;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  lease_until: number | null;
  sent_ts: string | null;
  created_at: number;
  content: string | null;
  file_name: string | null;
  file_title: string | null;
}

export interface OutboxCounts {
  pending: number;
  failed: number;
  sent: number;
  suppressed: number;
}

const LIGHT_COLUMNS = [
  "id", "event_key", "op", "channel", "thread_ts", "user", "target_ts", "response_url", "text", "blocks", "fingerprint",
  "status", "attempts", "next_attempt_at", "last_error", "lease_until", "sent_ts", "created_at", "file_name", "file_title",
].join(", ");

export class OutboxStore {
  private readonly insertQ: Statement<{ id: number }>;
  private readonly claimQ: Statement;
  private readonly sentQ: Statement;
  private readonly retryQ: Statement;
  private readonly failQ: Statement;
  private readonly getQ: Statement<OutboxRow, [number]>;
  private readonly dueQ: Statement<OutboxRow, [number, number, number]>;
  private readonly dupQ: Statement<{ id: number }, [string, number]>;

  constructor(private readonly db: Database) {
    this.insertQ = db.prepare(
      `INSERT INTO outbox (event_key, op, channel, thread_ts, user, target_ts, response_url, text, blocks, fingerprint,
                           status, next_attempt_at, created_at, updated_at, content, file_name, file_title)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    );
    // A claim is atomic: of two senders (the bot and `replay`), one wins.
    this.claimQ = db.prepare(
      `UPDATE outbox SET status = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
       WHERE id = ? AND (status = 'pending' OR (status = 'sending' AND lease_until < ?))`,
    );
    this.sentQ = db.prepare(
      "UPDATE outbox SET status = 'sent', sent_ts = ?, last_error = NULL, lease_until = NULL, updated_at = ? WHERE id = ?",
    );
    this.retryQ = db.prepare(
      "UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?",
    );
    this.failQ = db.prepare(
      "UPDATE outbox SET status = 'failed', last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?",
    );
    this.getQ = db.prepare("SELECT * FROM outbox WHERE id = ?");
    // Due items, plus sending items whose lease ran out (their sender died mid-send).
    // Without the content (an upload's may be megabytes): the sender reads it when it sends.
    this.dueQ = db.prepare(
      `SELECT ${LIGHT_COLUMNS}, NULL AS content FROM outbox WHERE (status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until < ?)
       ORDER BY id LIMIT ?`,
    );
    this.dupQ = db.prepare(
      "SELECT id FROM outbox WHERE fingerprint = ? AND created_at >= ? AND status != 'suppressed' LIMIT 1",
    );
  }

  enqueue(item: NewOutbox, now: number): number {
    const row = this.insertQ.get(
      item.eventKey ?? null,
      item.op,
      item.channel,
      item.threadTs ?? null,
      item.user ?? null,
      item.targetTs ?? null,
      item.responseUrl ?? null,
      item.text,
      item.blocks ? JSON.stringify(item.blocks) : null,
      item.fingerprint ?? null,
      item.status ?? "pending",
      now,
      now,
      now,
      item.content ?? null,
      item.fileName ?? null,
      item.fileTitle ?? null,
    );
    return row?.id ?? -1;
  }

  /** True if a reply with this fingerprint was queued at or after `since`. */
  hasRecent(fingerprint: string, since: number): boolean {
    return this.dupQ.get(fingerprint, since) !== null;
  }

  /** Takes an item for sending until `leaseUntil`; false if another sender has it. */
  claim(id: number, owner: string, now: number, leaseUntil: number): boolean {
    return this.claimQ.run(owner, leaseUntil, now, id, now).changes === 1;
  }

  /** Owners holding leases (to find the ones whose process died). */
  leaseOwners(): string[] {
    return this.db
      .query<{ o: string }, []>("SELECT DISTINCT lease_owner AS o FROM outbox WHERE status = 'sending' AND lease_owner IS NOT NULL")
      .all()
      .map((r) => r.o);
  }

  /** Ends the leases of a dead owner so its items are taken over now, not when the lease runs out. */
  releaseLeases(owner: string): number {
    return this.db.run("UPDATE outbox SET lease_until = 0 WHERE status = 'sending' AND lease_owner = ?", [owner]).changes;
  }

  markSent(id: number, ts: string | null, now: number): void {
    this.sentQ.run(ts, now, id);
  }

  retryAt(id: number, at: number, error: string, now: number): void {
    this.retryQ.run(at, error, now, id);
  }

  markFailed(id: number, error: string, now: number): void {
    this.failQ.run(error, now, id);
  }

  /** An item that will not be sent because something else carries it (an upload refused, sent as messages). */
  markReplaced(id: number, why: string, now: number): void {
    this.db.run("UPDATE outbox SET status = 'suppressed', last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?", [why, now, id]);
  }

  /** A failed item back in the queue (replay). */
  requeue(id: number, now: number): boolean {
    return (
      this.db.run("UPDATE outbox SET status = 'pending', next_attempt_at = ?, updated_at = ? WHERE id = ? AND status = 'failed'", [
        now,
        now,
        id,
      ]).changes === 1
    );
  }

  /** The replies an event produced (replay sends them with the event's answer). */
  idsForEvent(eventKey: string): number[] {
    return this.db
      .query<{ id: number }, [string]>("SELECT id FROM outbox WHERE event_key = ? AND status IN ('pending', 'sending', 'failed') ORDER BY id")
      .all(eventKey)
      .map((r) => r.id);
  }

  /** Replay: a pending item waiting out a backoff is due now (a rate limit's Retry-After is kept). */
  dueNow(id: number, now: number): boolean {
    return (
      this.db.run(
        `UPDATE outbox SET next_attempt_at = ?, updated_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at > ?
         AND (last_error IS NULL OR last_error NOT LIKE 'ratelimited%')`,
        [now, now, id, now],
      ).changes === 1
    );
  }

  /** An upload's content (due() rows leave it out). */
  content(id: number): string | null {
    return this.db.query<{ content: string | null }, [number]>("SELECT content FROM outbox WHERE id = ?").get(id)?.content ?? null;
  }

  get(id: number): OutboxRow | null {
    return this.getQ.get(id);
  }

  due(now: number, limit = 100): OutboxRow[] {
    return this.dueQ.all(now, now, limit);
  }

  /** What has not reached Slack: pending, sending, failed. */
  undelivered(limit = 1000): OutboxRow[] {
    return this.db
      .query<OutboxRow, [number]>("SELECT * FROM outbox WHERE status IN ('pending', 'sending', 'failed') ORDER BY id LIMIT ?")
      .all(limit);
  }

  /** The earliest time a pending item becomes due, for the sender's timer. */
  nextDueAt(): number | null {
    return (
      this.db
        .query<{ at: number | null }, []>(
          "SELECT min(CASE WHEN status = 'pending' THEN next_attempt_at ELSE lease_until END) AS at FROM outbox WHERE status IN ('pending', 'sending')",
        )
        .get()?.at ?? null
    );
  }

  counts(): OutboxCounts {
    const rows = this.db
      .query<{ status: string; n: number }, []>("SELECT status, count(*) AS n FROM outbox GROUP BY status")
      .all();
    const by = Object.fromEntries(rows.map((r) => [r.status, r.n])) as Record<string, number>;
    return {
      pending: (by.pending ?? 0) + (by.sending ?? 0),
      failed: by.failed ?? 0,
      sent: by.sent ?? 0,
      suppressed: by.suppressed ?? 0,
    };
  }

  /** Forgets sent and suppressed rows older than `before`. */
  purge(before: number): number {
    return this.db.run("DELETE FROM outbox WHERE status IN ('sent', 'suppressed') AND created_at < ?", [before]).changes;
  }
}
