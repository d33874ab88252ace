// The durable outbox: every reply is a row before it is a Slack message. Every instance's
// sender reads what is due; a claim (a conditional update) decides which one sends it.
import type { NewOutbox, OutboxCounts, OutboxItem, OutboxRepo, ThreadActivity } from "../../core/store.ts";
import { first, rows, type Sql, selectList, text } from "./sql.ts";
import { type Transaction, write } from "./transaction.ts";

const FIELDS = {
  id: "id",
  eventKey: "event_key",
  op: "op",
  channel: "channel",
  threadTs: "thread_ts",
  user: "user_id",
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
const LIGHT_COLUMNS = selectList<OutboxItem>({ ...FIELDS, content: "NULL::text" });
const NUMERIC = ["id", "nextAttemptAt", "leaseUntil", "createdAt"];

const ENQUEUE = `
  INSERT INTO outbox (event_key, op, channel, thread_ts, user_id, target_ts, response_url, text, blocks, fingerprint,
                      status, next_attempt_at, created_at, updated_at, content, file_name, file_title)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12, $13, $14, $15)
  RETURNING id`;
const HAS_RECENT = "SELECT 1 AS x FROM outbox WHERE fingerprint = $1 AND created_at >= $2 AND status != 'suppressed' LIMIT 1";
const CLAIM = `
  UPDATE outbox SET status = 'sending', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
  WHERE id = $4 AND (status = 'pending' OR (status = 'sending' AND lease_until < $3))
  RETURNING ${LIGHT_COLUMNS}`;
const MARK_SENT = "UPDATE outbox SET status = 'sent', sent_ts = $1, last_error = NULL, lease_until = NULL, updated_at = $2 WHERE id = $3";

export class PgOutbox implements OutboxRepo {
  /**
   * In a transaction: fingerprints hasRecent found free, which the caller queues next. A
   * pipelining group commit runs its writes at once, so two replies with the same text may
   * both ask before either is queued; the second hears "recent", as it would in turn.
   */
  private readonly claimedFingerprints: Set<string> | null;
  /**
   * In a transaction: items it queued as pending, as claim() would return them, until another
   * write of the outbox in it. No other transaction sees such an item before this one commits,
   * so claiming it cannot lose: the claim goes out without waiting for the server's answer (an
   * answer's transaction queues its reply and claims it; one round trip fewer).
   */
  private readonly queued: Map<number, OutboxItem> | null;

  constructor(
    private readonly sql: Sql,
    private readonly tx?: Transaction,
  ) {
    this.claimedFingerprints = tx ? new Set() : null;
    this.queued = tx ? new Map() : null;
  }

  async enqueue(item: NewOutbox, now: number): Promise<number> {
    const stored: Omit<OutboxItem, "id"> = {
      eventKey: item.eventKey ?? null,
      op: item.op,
      channel: item.channel,
      threadTs: item.threadTs ?? null,
      user: item.user ?? null,
      targetTs: item.targetTs ?? null,
      responseUrl: item.responseUrl ?? null,
      text: text(item.text),
      blocks: item.blocks ? text(JSON.stringify(item.blocks)) : null,
      fingerprint: item.fingerprint ?? null,
      status: item.status ?? "pending",
      attempts: 0,
      nextAttemptAt: now,
      lastError: null,
      leaseUntil: null,
      sentTs: null,
      createdAt: now,
      // As due() and claim() give items: without the content.
      content: null,
      fileName: item.fileName ?? null,
      fileTitle: item.fileTitle ?? null,
    };
    const [row] = await this.sql.unsafe(ENQUEUE, [
      stored.eventKey,
      stored.op,
      stored.channel,
      stored.threadTs,
      stored.user,
      stored.targetTs,
      stored.responseUrl,
      stored.text,
      stored.blocks,
      stored.fingerprint,
      stored.status,
      now,
      text(item.content),
      stored.fileName,
      stored.fileTitle,
    ]);
    const id = Number(row?.id ?? -1);
    if (this.queued && stored.status === "pending") this.queued.set(id, { id, ...stored });
    return id;
  }

  async hasRecent(fingerprint: string, since: number): Promise<boolean> {
    const claimed = this.claimedFingerprints;
    if (claimed?.has(fingerprint)) return true;
    claimed?.add(fingerprint);
    return (await this.sql.unsafe(HAS_RECENT, [fingerprint, since])).length > 0;
  }

  async claim(id: number, owner: string, now: number, leaseUntil: number): Promise<OutboxItem | null> {
    const mine = this.queued?.get(id);
    if (mine && this.tx) {
      this.queued?.delete(id);
      const claimed = this.sql.unsafe(CLAIM, [owner, leaseUntil, now, id]).then((r) => {
        if (r.length !== 1) throw new Error(`outbox #${id}, queued in this transaction, could not be claimed in it`);
      });
      this.tx.send(claimed);
      return { ...mine, status: "sending", attempts: mine.attempts + 1, leaseUntil };
    }
    return first<OutboxItem>(await this.sql.unsafe(CLAIM, [owner, leaseUntil, now, id]), NUMERIC);
  }

  async leaseOwners(): Promise<string[]> {
    const r = await this.sql`SELECT DISTINCT lease_owner AS o FROM outbox WHERE status = 'sending' AND lease_owner IS NOT NULL`;
    return (r as { o: string }[]).map((x) => x.o);
  }

  async releaseLeases(owner: string): Promise<number> {
    this.queued?.clear();
    return (await this.sql`UPDATE outbox SET lease_until = 0 WHERE status = 'sending' AND lease_owner = ${owner}`).affectedRows;
  }

  async markSent(id: number, ts: string | null, now: number): Promise<void> {
    this.queued?.clear();
    await write(this.sql.unsafe(MARK_SENT, [ts, now, id]), this.tx);
  }

  async retryAt(id: number, at: number, error: string, now: number): Promise<void> {
    this.queued?.clear();
    await this.sql`
      UPDATE outbox SET status = 'pending', next_attempt_at = ${at}, last_error = ${text(error)}, lease_until = NULL, updated_at = ${now}
      WHERE id = ${id}`;
  }

  async markFailed(id: number, error: string, now: number): Promise<void> {
    this.queued?.clear();
    await this.sql`UPDATE outbox SET status = 'failed', last_error = ${text(error)}, lease_until = NULL, updated_at = ${now} WHERE id = ${id}`;
  }

  async markReplaced(id: number, why: string, now: number): Promise<void> {
    this.queued?.clear();
    await this.sql`UPDATE outbox SET status = 'suppressed', last_error = ${text(why)}, lease_until = NULL, updated_at = ${now} WHERE id = ${id}`;
  }

  async requeue(id: number, now: number): Promise<boolean> {
    this.queued?.clear();
    const r = await this.sql`UPDATE outbox SET status = 'pending', next_attempt_at = ${now}, updated_at = ${now} WHERE id = ${id} AND status = 'failed'`;
    return r.affectedRows === 1;
  }

  async idsForEvent(eventKey: string): Promise<number[]> {
    const r = await this.sql`SELECT id FROM outbox WHERE event_key = ${eventKey} AND status IN ('pending', 'sending', 'failed') ORDER BY id`;
    return (r as { id: string }[]).map((x) => Number(x.id));
  }

  async dueNow(id: number, now: number): Promise<boolean> {
    this.queued?.clear();
    const r = await this.sql`
      UPDATE outbox SET next_attempt_at = ${now}, updated_at = ${now}
      WHERE id = ${id} AND status = 'pending' AND next_attempt_at > ${now} AND (last_error IS NULL OR last_error NOT LIKE 'ratelimited%')`;
    return r.affectedRows === 1;
  }

  async content(id: number): Promise<string | null> {
    const [row] = await this.sql`SELECT content FROM outbox WHERE id = ${id}`;
    return (row?.content as string | null | undefined) ?? null;
  }

  async get(id: number): Promise<OutboxItem | null> {
    return first<OutboxItem>(await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM outbox WHERE id = ${id}`, NUMERIC);
  }

  async due(now: number, limit = 100): Promise<OutboxItem[]> {
    return rows<OutboxItem>(
      await this.sql`
        SELECT ${this.sql.unsafe(LIGHT_COLUMNS)} FROM outbox
        WHERE (status = 'pending' AND next_attempt_at <= ${now}) OR (status = 'sending' AND lease_until < ${now})
        ORDER BY id LIMIT ${limit}`,
      NUMERIC,
    );
  }

  async undelivered(limit = 1000): Promise<OutboxItem[]> {
    return rows<OutboxItem>(
      await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM outbox WHERE status IN ('pending', 'sending', 'failed') ORDER BY id LIMIT ${limit}`,
      NUMERIC,
    );
  }

  async failed(limit: number): Promise<OutboxItem[]> {
    return rows<OutboxItem>(
      await this.sql`SELECT ${this.sql.unsafe(LIGHT_COLUMNS)} FROM outbox WHERE status = 'failed' ORDER BY id DESC LIMIT ${limit}`,
      NUMERIC,
    );
  }

  async nextDueAt(): Promise<number | null> {
    const [row] = await this.sql`
      SELECT min(CASE WHEN status = 'pending' THEN next_attempt_at ELSE lease_until END) AS at FROM outbox WHERE status IN ('pending', 'sending')`;
    return row?.at === null || row?.at === undefined ? null : Number(row.at);
  }

  async counts(): Promise<OutboxCounts> {
    const r = (await this.sql`SELECT status, count(*)::int AS n FROM outbox GROUP BY status`) as { status: string; n: number }[];
    const by = Object.fromEntries(r.map((x) => [x.status, x.n])) as Record<string, number>;
    return {
      pending: (by.pending ?? 0) + (by.sending ?? 0),
      failed: by.failed ?? 0,
      sent: by.sent ?? 0,
      suppressed: by.suppressed ?? 0,
    };
  }

  async postedChannels(since: number): Promise<string[]> {
    const r = await this.sql`SELECT DISTINCT channel FROM outbox WHERE op = 'post' AND created_at >= ${since}`;
    return (r as { channel: string }[]).map((x) => x.channel);
  }

  async postedThreads(since: number, limit = 200): Promise<ThreadActivity[]> {
    return rows<ThreadActivity>(
      await this.sql`
        SELECT channel, thread_ts AS "threadTs", max(created_at) AS at FROM outbox
        WHERE op = 'post' AND created_at >= ${since} AND thread_ts IS NOT NULL
        GROUP BY channel, thread_ts ORDER BY at DESC LIMIT ${limit}`,
      ["at"],
    );
  }

  async purge(before: number): Promise<number> {
    this.queued?.clear();
    return (await this.sql`DELETE FROM outbox WHERE status IN ('sent', 'suppressed') AND created_at < ${before}`).affectedRows;
  }
}
