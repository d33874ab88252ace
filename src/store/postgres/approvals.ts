// Approvals as a persisted state machine. Every transition is one conditional UPDATE: two
// clicks on two instances, or a click racing expiry, move a row only once.
import type { Approval, ApprovalsRepo, ApprovalStatus, CardCopy, NewApproval, TransitionPatch } from "../../core/store.ts";
import { countsBy, first, rows, type Sql, selectList, text } from "./sql.ts";

const COLUMNS = selectList<Approval>({
  id: "id",
  kind: "kind",
  text: "text",
  reason: "reason",
  status: "status",
  requestedBy: "requested_by",
  channel: "channel",
  threadTs: "thread_ts",
  eventKey: "event_key",
  resume: "resume",
  createdAt: "created_at",
  expiresAt: "expires_at",
  decidedBy: "decided_by",
  decidedAt: "decided_at",
  decidedIn: "decided_in",
  startedAt: "started_at",
  finishedAt: "finished_at",
  exitCode: "exit_code",
  output: "output",
  pid: "pid",
  runner: "runner",
});
const NUMERIC = ["createdAt", "expiresAt", "decidedAt", "startedAt", "finishedAt"];

const PATCHABLE = {
  decidedBy: "decided_by",
  decidedAt: "decided_at",
  decidedIn: "decided_in",
  startedAt: "started_at",
  finishedAt: "finished_at",
  exitCode: "exit_code",
  output: "output",
  runner: "runner",
} as const satisfies Record<keyof TransitionPatch, string>;

export class PgApprovals implements ApprovalsRepo {
  constructor(private readonly sql: Sql) {}

  async create(a: NewApproval, now: number): Promise<Approval> {
    const r = await this.sql`
      INSERT INTO approvals (id, kind, text, reason, status, requested_by, channel, thread_ts, event_key, resume, created_at, expires_at)
      VALUES (${a.id}, ${a.kind}, ${text(a.text)}, ${text(a.reason)}, 'pending', ${a.requestedBy}, ${a.channel}, ${a.threadTs ?? null},
              ${a.eventKey ?? null}, ${a.resume === undefined ? null : text(JSON.stringify(a.resume))}, ${now}, ${a.expiresAt})
      RETURNING ${this.sql.unsafe(COLUMNS)}`;
    const cards = a.cards ?? [{ channel: a.channel, threadTs: a.threadTs }];
    for (const [i, c] of cards.entries()) {
      await this.sql`
        INSERT INTO approval_cards (approval_id, seq, channel, thread_ts) VALUES (${a.id}, ${i}, ${c.channel}, ${c.threadTs ?? null})
        ON CONFLICT DO NOTHING`;
    }
    return first<Approval>(r, NUMERIC) as Approval;
  }

  async setCard(id: string, channel: string, ts: string): Promise<void> {
    await this.sql`UPDATE approval_cards SET card_ts = ${ts} WHERE approval_id = ${id} AND channel = ${channel}`;
  }

  async cards(id: string): Promise<CardCopy[]> {
    const r = await this.sql`SELECT channel, thread_ts AS "threadTs", card_ts AS ts FROM approval_cards WHERE approval_id = ${id} ORDER BY seq`;
    return [...r] as CardCopy[];
  }

  async setPid(id: string, pid: number): Promise<void> {
    await this.sql`UPDATE approvals SET pid = ${pid} WHERE id = ${id} AND status = 'running'`;
  }

  async get(id: string): Promise<Approval | null> {
    return first<Approval>(await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM approvals WHERE id = ${id}`, NUMERIC);
  }

  async transition(id: string, from: ApprovalStatus[], to: ApprovalStatus, patch: TransitionPatch = {}): Promise<boolean> {
    const set: Record<string, string | number | null> = { status: to };
    for (const [field, column] of Object.entries(PATCHABLE) as [keyof TransitionPatch, string][]) {
      const v = patch[field];
      if (v !== undefined) set[column] = typeof v === "string" ? text(v) : v;
    }
    const r = await this.sql`UPDATE approvals SET ${this.sql(set)} WHERE id = ${id} AND status = ANY(${this.sql.array(from, "TEXT")})`;
    return r.affectedRows === 1;
  }

  async list(limit = 200): Promise<Approval[]> {
    return rows<Approval>(await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM approvals ORDER BY created_at DESC, id DESC LIMIT ${limit}`, NUMERIC);
  }

  async withStatus(status: ApprovalStatus, limit?: number): Promise<Approval[]> {
    return rows<Approval>(
      // LIMIT NULL is PostgreSQL's "no limit".
      await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM approvals WHERE status = ${status} ORDER BY created_at, id LIMIT ${limit ?? null}`,
      NUMERIC,
    );
  }

  async expiredPending(now: number): Promise<Approval[]> {
    return rows<Approval>(
      await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM approvals WHERE status = 'pending' AND expires_at <= ${now} ORDER BY expires_at`,
      NUMERIC,
    );
  }

  /** Finished approvals and their card copies, in one statement. */
  async purge(before: number): Promise<number> {
    const [row] = await this.sql`
      WITH gone AS (
        DELETE FROM approvals WHERE status IN ('succeeded', 'failed', 'denied', 'expired', 'interrupted') AND created_at < ${before} RETURNING id
      ), copies AS (DELETE FROM approval_cards WHERE approval_id IN (SELECT id FROM gone))
      SELECT count(*)::int AS n FROM gone`;
    return Number(row?.n ?? 0);
  }

  async countByStatus(): Promise<Record<string, number>> {
    return countsBy(await this.sql`SELECT status AS k, count(*)::int AS n FROM approvals GROUP BY status`);
  }
}
