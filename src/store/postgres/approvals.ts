// Approvals as a persisted state machine. Every transition is one conditional UPDATE: two
// clicks on two instances, or a click racing expiry, move a row only once.
import type { Approval, ApprovalsRepo, ApprovalStatus, NewApproval, TransitionPatch } from "../../core/store.ts";
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
  cardTs: "card_ts",
  eventKey: "event_key",
  resume: "resume",
  createdAt: "created_at",
  expiresAt: "expires_at",
  decidedBy: "decided_by",
  decidedAt: "decided_at",
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
    return first<Approval>(r, NUMERIC) as Approval;
  }

  async setCard(id: string, ts: string): Promise<void> {
    await this.sql`UPDATE approvals SET card_ts = ${ts} WHERE id = ${id}`;
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

  async withStatus(status: ApprovalStatus): Promise<Approval[]> {
    return rows<Approval>(await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM approvals WHERE status = ${status} ORDER BY created_at, id`, NUMERIC);
  }

  async expiredPending(now: number): Promise<Approval[]> {
    return rows<Approval>(
      await this.sql`SELECT ${this.sql.unsafe(COLUMNS)} FROM approvals WHERE status = 'pending' AND expires_at <= ${now} ORDER BY expires_at`,
      NUMERIC,
    );
  }

  async purge(before: number): Promise<number> {
    const r = await this.sql`
      DELETE FROM approvals WHERE status IN ('succeeded', 'failed', 'denied', 'expired', 'interrupted') AND created_at < ${before}`;
    return r.affectedRows;
  }

  async countByStatus(): Promise<Record<string, number>> {
    return countsBy(await this.sql`SELECT status AS k, count(*)::int AS n FROM approvals GROUP BY status`);
  }
}
