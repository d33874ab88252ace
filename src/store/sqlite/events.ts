// Inbound events, recorded before they are acked. The unique key makes every
// redelivery (Socket Mode retry, HTTP retry, reconnect, catch-up) a no-op.
import type { Database, Statement } from "bun:sqlite";
import { type EventStatus, eventAsRecorded, type InboundEvent, type NewEvent, type ThreadActivity } from "../../core/store.ts";
import { selectList } from "./columns.ts";

const COLUMNS = selectList<InboundEvent>({
  id: "id",
  key: "key",
  kind: "kind",
  channel: "channel",
  ts: "ts",
  threadTs: "thread_ts",
  user: "user",
  text: "text",
  payload: "payload",
  status: "status",
  detail: "detail",
  receivedAt: "received_at",
});

export class SqliteEvents {
  private readonly insertQ: Statement;
  private readonly statusQ: Statement;
  private readonly getQ: Statement<InboundEvent, [string]>;
  private readonly claimQ: Statement;

  constructor(private readonly db: Database) {
    this.insertQ = db.prepare(
      `INSERT INTO events (key, kind, channel, ts, thread_ts, user, text, payload, status, detail, received_at, updated_at, lease_owner, lease_until)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING`,
    );
    this.statusQ = db.prepare("UPDATE events SET status = ?, detail = ?, updated_at = ? WHERE key = ?");
    this.getQ = db.prepare(`SELECT ${COLUMNS} FROM events WHERE key = ?`);
    this.claimQ = db.prepare(
      `UPDATE events SET lease_owner = ?, lease_until = ?, updated_at = ?
       WHERE key = ? AND status = 'received' AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)`,
    );
  }

  record(e: NewEvent, now: number): { fresh: boolean; event: InboundEvent | null } {
    const event = eventAsRecorded(e, now);
    const { key, kind, channel, ts, threadTs, user, text, payload, status, detail } = event;
    const r = this.insertQ.run(key, kind, channel, ts, threadTs, user, text, payload, status, detail, now, now, e.lease?.owner ?? null, e.lease?.until ?? null);
    // What was written is what was given: only the id is new (RETURNING, let alone the payload copied back, costs more).
    return r.changes === 1 ? { fresh: true, event: { id: Number(r.lastInsertRowid), ...event } } : { fresh: false, event: null };
  }

  setStatus(key: string, status: EventStatus, now: number, detail?: string): void {
    this.statusQ.run(status, detail ?? null, now, key);
  }

  get(key: string): InboundEvent | null {
    return this.getQ.get(key);
  }

  claim(key: string, owner: string, now: number, leaseUntil: number): boolean {
    return this.claimQ.run(owner, leaseUntil, now, key, now, owner).changes === 1;
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

  unanswered(limit = 1000): InboundEvent[] {
    return this.db.query<InboundEvent, [number]>(`SELECT ${COLUMNS} FROM events WHERE status = 'received' ORDER BY id LIMIT ?`).all(limit);
  }

  counts(): Record<string, number> {
    const rows = this.db
      .query<{ status: string; n: number }, []>("SELECT status, count(*) AS n FROM events GROUP BY status")
      .all();
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  activeChannels(since: number): string[] {
    return this.db
      .query<{ channel: string }, [number]>(
        "SELECT DISTINCT channel FROM events WHERE kind IN ('dm', 'mention') AND received_at >= ? AND channel IS NOT NULL",
      )
      .all(since)
      .map((r) => r.channel);
  }

  activeThreads(since: number, limit = 200): ThreadActivity[] {
    return this.db
      .query<ThreadActivity, [number, number]>(
        `SELECT channel, thread_ts AS threadTs, max(received_at) AS at FROM events
         WHERE kind IN ('dm', 'mention') AND received_at >= ? AND channel IS NOT NULL AND thread_ts IS NOT NULL
         GROUP BY channel, thread_ts ORDER BY at DESC LIMIT ?`,
      )
      .all(since, limit);
  }

  knows(channel: string): boolean {
    return this.db.query<{ x: number }, [string]>("SELECT 1 AS x FROM events WHERE channel = ? LIMIT 1").get(channel) !== null;
  }

  purge(before: number): number {
    return this.db.run("DELETE FROM events WHERE status != 'received' AND received_at < ?", [before]).changes;
  }
}
