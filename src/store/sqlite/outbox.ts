// The durable outbox: every reply is a row before it is a Slack message.
// pending → sending (leased) → sent | failed | pending again (retry); suppressed for duplicates
// (and for an upload Slack refused, once its content was queued as messages instead).
import type { Database, Statement } from "bun:sqlite";
import type { NewOutbox, OutboxCounts, OutboxItem, ThreadActivity } from "../../core/store.ts";
import { selectList } from "./columns.ts";

const FIELDS = {
  id: "id",
  eventKey: "event_key",
  op: "op",
  channel: "channel",
  threadTs: "thread_ts",
  user: "user",
  targetTs: "target_ts",
  responseUrl: "response_url",
  text: "text",
  blocks: "blocks",
  fingerprint: "fingerprint",
  status: "status",
  attempts: "attempts",
  nextAttemptAt: "next_attempt_at",
  lastError: "last_error",
  leaseUntil: "lease_until",
  sentTs: "sent_ts",
  createdAt: "created_at",
  content: "content",
  fileName: "file_name",
  fileTitle: "file_title",
} as const;
const COLUMNS = selectList<OutboxItem>(FIELDS);
/** Without the content (an upload's may be megabytes). */
const LIGHT_COLUMNS = selectList<OutboxItem>({ ...FIELDS, content: "NULL" });

export class SqliteOutbox {
  private readonly insertQ: Statement;
  private readonly claimQ: Statement<OutboxItem>;
  private readonly sentQ: Statement;
  private readonly retryQ: Statement;
  private readonly failQ: Statement;
  private readonly getQ: Statement<OutboxItem, [number]>;
  private readonly dueQ: Statement<OutboxItem, [number, number, number]>;
  private readonly dupQ: Statement<{ id: number }, [string, number]>;

  constructor(private readonly db: Database) {
    this.insertQ = db.prepare(
      `INSERT INTO outbox (event_key, op, channel, thread_ts, user, target_ts, response_url, text, blocks, fingerprint,
                           status, next_attempt_at, created_at, updated_at, content, file_name, file_title)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // A claim is atomic: of two senders (the bot and `replay`), one wins.
    this.claimQ = db.prepare(
      `UPDATE outbox SET status = 'sending', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
       WHERE id = ? AND (status = 'pending' OR (status = 'sending' AND lease_until < ?))
       RETURNING ${LIGHT_COLUMNS}`,
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
    this.getQ = db.prepare(`SELECT ${COLUMNS} FROM outbox WHERE id = ?`);
    // Due items, plus sending items whose lease ran out (their sender died mid-send).
    // Without the content: the sender reads it when it sends.
    this.dueQ = db.prepare(
      `SELECT ${LIGHT_COLUMNS} FROM outbox WHERE (status = 'pending' AND next_attempt_at <= ?) OR (status = 'sending' AND lease_until < ?)
       ORDER BY id LIMIT ?`,
    );
    this.dupQ = db.prepare(
      "SELECT id FROM outbox WHERE fingerprint = ? AND created_at >= ? AND status != 'suppressed' LIMIT 1",
    );
  }

  enqueue(item: NewOutbox, now: number): number {
    // The new row's id without RETURNING (which costs an insert a third more).
    const r = this.insertQ.run(
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
    return Number(r.lastInsertRowid);
  }

  /** True if a reply with this fingerprint was queued at or after `since`. */
  hasRecent(fingerprint: string, since: number): boolean {
    return this.dupQ.get(fingerprint, since) !== null;
  }

  /** Takes an item for sending until `leaseUntil` and returns it as claimed (without content); null if another sender has it. */
  claim(id: number, owner: string, now: number, leaseUntil: number): OutboxItem | null {
    return this.claimQ.get(owner, leaseUntil, now, id, now);
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

  get(id: number): OutboxItem | null {
    return this.getQ.get(id);
  }

  due(now: number, limit = 100): OutboxItem[] {
    return this.dueQ.all(now, now, limit);
  }

  /** What has not reached Slack: pending, sending, failed. */
  undelivered(limit = 1000): OutboxItem[] {
    return this.db
      .query<OutboxItem, [number]>(`SELECT ${COLUMNS} FROM outbox WHERE status IN ('pending', 'sending', 'failed') ORDER BY id LIMIT ?`)
      .all(limit);
  }

  /** For the status page: failed items, newest first, without content. */
  failed(limit: number): OutboxItem[] {
    return this.db.query<OutboxItem, [number]>(`SELECT ${LIGHT_COLUMNS} FROM outbox WHERE status = 'failed' ORDER BY id DESC LIMIT ?`).all(limit);
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

  postedChannels(since: number): string[] {
    return this.db
      .query<{ channel: string }, [number]>("SELECT DISTINCT channel FROM outbox WHERE op = 'post' AND created_at >= ?")
      .all(since)
      .map((r) => r.channel);
  }

  postedThreads(since: number, limit = 200): ThreadActivity[] {
    return this.db
      .query<ThreadActivity, [number, number]>(
        `SELECT channel, thread_ts AS threadTs, max(created_at) AS at FROM outbox
         WHERE op = 'post' AND created_at >= ? AND thread_ts IS NOT NULL
         GROUP BY channel, thread_ts ORDER BY at DESC LIMIT ?`,
      )
      .all(since, limit);
  }

  /** Forgets sent and suppressed rows older than `before`. */
  purge(before: number): number {
    return this.db.run("DELETE FROM outbox WHERE status IN ('sent', 'suppressed') AND created_at < ?", [before]).changes;
  }
}
