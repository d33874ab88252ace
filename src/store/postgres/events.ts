// Inbound events, recorded before they are acked. The unique key makes every redelivery
// (Socket Mode retry, HTTP retry, reconnect, catch-up, another instance) a no-op.
import { type EventsRepo, type EventStatus, eventAsRecorded, type InboundEvent, type NewEvent, type ThreadActivity } from "../../core/store.ts";
import { countsBy, first, rows, type Sql, selectList, text } from "./sql.ts";
import { type Transaction, write } from "./transaction.ts";

const COLUMNS = selectList<InboundEvent>({
  id: "id",
  key: "key",
  kind: "kind",
  channel: "channel",
  ts: "ts",
  threadTs: "thread_ts",
  user: "user_id",
  text: "text",
  payload: "payload",
  status: "status",
  detail: "detail",
  receivedAt: "received_at",
});
const NUMERIC = ["id", "receivedAt"];

const RECORD = `
  INSERT INTO events (key, kind, channel, ts, thread_ts, user_id, text, payload, status, detail, received_at, updated_at, lease_owner, lease_until)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13)
  ON CONFLICT (key) DO NOTHING
  RETURNING id`;
const SET_STATUS = "UPDATE events SET status = $1, detail = $2, updated_at = $3 WHERE key = $4";
const CLAIM = `
  UPDATE events SET lease_owner = $1, lease_until = $2, updated_at = $3
  WHERE key = $4 AND status = 'received' AND (lease_until IS NULL OR lease_until < $3 OR lease_owner = $1)`;

export class PgEvents implements EventsRepo {
  constructor(
    private readonly sql: Sql,
    private readonly tx?: Transaction,
  ) {}

  // The event as stored is what was inserted (a text's U+0000 replaced, say): no read after the write.
  async record(e: NewEvent, now: number): Promise<{ fresh: boolean; event: InboundEvent | null }> {
    const event = { ...eventAsRecorded(e, now), text: text(e.text), payload: text(e.payload) };
    const [row] = await this.sql.unsafe(RECORD, [
      event.key,
      event.kind,
      event.channel,
      event.ts,
      event.threadTs,
      event.user,
      event.text,
      event.payload,
      event.status,
      event.detail,
      now,
      e.lease?.owner ?? null,
      e.lease?.until ?? null,
    ]);
    return row ? { fresh: true, event: { id: Number(row.id), ...event } } : { fresh: false, event: null };
  }

  async setStatus(key: string, status: EventStatus, now: number, detail?: string): Promise<void> {
    await write(this.sql.unsafe(SET_STATUS, [status, detail ?? null, now, key]), this.tx);
  }

  async get(key: string): Promise<InboundEvent | null> {
    return first<InboundEvent>(await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM events WHERE key = ${key}`, NUMERIC);
  }

  // A conditional update: of two instances claiming at once, the second waits for the first's
  // row lock, then finds the lease taken and changes nothing.
  async claim(key: string, owner: string, now: number, leaseUntil: number): Promise<boolean> {
    return (await this.sql.unsafe(CLAIM, [owner, leaseUntil, now, key])).affectedRows === 1;
  }

  async leaseOwners(): Promise<string[]> {
    const r = await this.sql`SELECT DISTINCT lease_owner AS o FROM events WHERE status = 'received' AND lease_owner IS NOT NULL`;
    return (r as { o: string }[]).map((x) => x.o);
  }

  async releaseLeases(owner: string): Promise<number> {
    return (await this.sql`UPDATE events SET lease_until = 0 WHERE status = 'received' AND lease_owner = ${owner}`).affectedRows;
  }

  async unanswered(limit = 1000): Promise<InboundEvent[]> {
    return rows<InboundEvent>(
      await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM events WHERE status = 'received' ORDER BY id LIMIT ${limit}`,
      NUMERIC,
    );
  }

  async counts(): Promise<Record<string, number>> {
    return countsBy(await this.sql`SELECT status AS k, count(*)::int AS n FROM events GROUP BY status`);
  }

  async activeChannels(since: number): Promise<string[]> {
    const r = await this.sql`
      SELECT DISTINCT channel FROM events WHERE kind IN ('dm', 'mention') AND received_at >= ${since} AND channel IS NOT NULL`;
    return (r as { channel: string }[]).map((x) => x.channel);
  }

  async activeThreads(since: number, limit = 200): Promise<ThreadActivity[]> {
    return rows<ThreadActivity>(
      await this.sql`
        SELECT channel, thread_ts AS "threadTs", max(received_at) AS at FROM events
        WHERE kind IN ('dm', 'mention') AND received_at >= ${since} AND channel IS NOT NULL AND thread_ts IS NOT NULL
        GROUP BY channel, thread_ts ORDER BY at DESC LIMIT ${limit}`,
      ["at"],
    );
  }

  async knows(channel: string): Promise<boolean> {
    return (await this.sql`SELECT 1 AS x FROM events WHERE channel = ${channel} LIMIT 1`).length > 0;
  }

  async purge(before: number): Promise<number> {
    return (await this.sql`DELETE FROM events WHERE status != 'received' AND received_at < ${before}`).affectedRows;
  }
}
