// Inbound events, recorded before they are acked. The unique key makes every
// redelivery (Socket Mode retry, HTTP retry, reconnect, catch-up) a no-op.
import type { Database, Statement } from "bun:sqlite";

export type EventKind = "dm" | "mention" | "slash" | "action" | "other";
/** received: not yet answered (picked up after a crash); answered, ignored, failed: done. */
export type EventStatus = "received" | "answered" | "ignored" | "failed";

export interface NewEvent {
  key: string;
  kind: EventKind;
  channel?: string;
  ts?: string;
  threadTs?: string;
  user?: string;
  text?: string;
  payload: string;
  status?: EventStatus;
  /** Why, for the record: e.g. "paused" when it arrived while the kill switch was on. */
  detail?: string;
}

export interface EventRow {
  id: number;
  key: string;
  kind: EventKind;
  channel: string | null;
  ts: string | null;
  thread_ts: string | null;
  user: string | null;
  text: string | null;
  payload: string;
  status: EventStatus;
  detail: string | null;
  received_at: number;
}

export class EventStore {
  private readonly insertQ: Statement;
  private readonly statusQ: Statement;
  private readonly getQ: Statement<EventRow, [string]>;

  constructor(private readonly db: Database) {
    this.insertQ = db.prepare(
      `INSERT INTO events (key, kind, channel, ts, thread_ts, user, text, payload, status, detail, received_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING`,
    );
    this.statusQ = db.prepare("UPDATE events SET status = ?, detail = ?, updated_at = ? WHERE key = ?");
    this.getQ = db.prepare("SELECT * FROM events WHERE key = ?");
  }

  /** Records an event; `fresh` is false when the key was seen before (a redelivery). */
  record(e: NewEvent, now: number): { fresh: boolean } {
    const r = this.insertQ.run(
      e.key,
      e.kind,
      e.channel ?? null,
      e.ts ?? null,
      e.threadTs ?? null,
      e.user ?? null,
      e.text ?? null,
      e.payload,
      e.status ?? "received",
      e.detail ?? null,
      now,
      now,
    );
    return { fresh: r.changes === 1 };
  }

  setStatus(key: string, status: EventStatus, now: number, detail?: string): void {
    this.statusQ.run(status, detail ?? null, now, key);
  }

  get(key: string): EventRow | null {
    return this.getQ.get(key);
  }

  /**
   * Takes a received event for answering until `leaseUntil`. Of two processes (the bot and
   * `replay`), one wins; a dead owner's lease is released at start-up (see releaseLeases).
   */
  claim(key: string, owner: string, now: number, leaseUntil: number): boolean {
    return (
      this.db.run(
        `UPDATE events SET lease_owner = ?, lease_until = ?, updated_at = ?
         WHERE key = ? AND status = 'received' AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)`,
        [owner, leaseUntil, now, key, now, owner],
      ).changes === 1
    );
  }

  leaseOwners(): string[] {
    return this.db
      .query<{ o: string }, []>("SELECT DISTINCT lease_owner AS o FROM events WHERE status = 'received' AND lease_owner IS NOT NULL")
      .all()
      .map((r) => r.o);
  }

  releaseLeases(owner: string): number {
    return this.db.run("UPDATE events SET lease_until = 0 WHERE status = 'received' AND lease_owner = ?", [owner]).changes;
  }

  /** Received and never answered: what a crash left behind. */
  unanswered(limit = 1000): EventRow[] {
    return this.db
      .query<EventRow, [number]>("SELECT * FROM events WHERE status = 'received' ORDER BY id LIMIT ?")
      .all(limit);
  }

  counts(): Record<string, number> {
    const rows = this.db
      .query<{ status: string; n: number }, []>("SELECT status, count(*) AS n FROM events GROUP BY status")
      .all();
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** Conversations the bot took part in since `since`: addressed there, or posted there. */
  activeChannels(since: number): string[] {
    return this.db
      .query<{ channel: string }, [number, number]>(
        `SELECT channel FROM events WHERE kind IN ('dm', 'mention') AND received_at >= ? AND channel IS NOT NULL
         UNION SELECT channel FROM outbox WHERE op = 'post' AND created_at >= ?`,
      )
      .all(since, since)
      .map((r) => r.channel);
  }

  /**
   * Threads the bot took part in since `since` (addressed there, or replied there), newest
   * activity first: catch-up reads them for replies posted while it was away.
   */
  activeThreads(since: number, limit = 200): { channel: string; threadTs: string }[] {
    return this.db
      .query<{ channel: string; threadTs: string }, [number, number, number]>(
        `SELECT channel, thread_ts AS threadTs FROM (
           SELECT channel, thread_ts, received_at AS at FROM events
           WHERE kind IN ('dm', 'mention') AND received_at >= ? AND channel IS NOT NULL AND thread_ts IS NOT NULL
           UNION ALL SELECT channel, thread_ts, created_at AS at FROM outbox
           WHERE op = 'post' AND created_at >= ? AND thread_ts IS NOT NULL
         ) GROUP BY channel, thread_ts ORDER BY max(at) DESC LIMIT ?`,
      )
      .all(since, since, limit);
  }

  /** Whether any event of this conversation is on record. */
  knows(channel: string): boolean {
    return this.db.query<{ x: number }, [string]>("SELECT 1 AS x FROM events WHERE channel = ? LIMIT 1").get(channel) !== null;
  }

  /** Forgets finished events older than `before` (keeps the dedupe window bounded). */
  purge(before: number): number {
    return this.db.run("DELETE FROM events WHERE status != 'received' AND received_at < ?", [before]).changes;
  }
}
