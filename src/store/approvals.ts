// Approvals as a persisted state machine. Every transition is a single conditional
// UPDATE: two clicks, two approvers or a click racing expiry can move a row only once.
import type { Database, Statement } from "bun:sqlite";

export type ApprovalKind = "exec" | "code";
export type ApprovalStatus =
  | "pending"
  | "approved"
  | "running"
  | "succeeded"
  | "failed"
  | "denied"
  | "expired"
  | "interrupted";

export interface ApprovalRow {
  id: string;
  kind: ApprovalKind;
  text: string;
  reason: string | null;
  status: ApprovalStatus;
  requested_by: string;
  channel: string;
  thread_ts: string | null;
  card_ts: string | null;
  event_key: string | null;
  resume: string | null;
  created_at: number;
  expires_at: number;
  decided_by: string | null;
  decided_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  output: string | null;
  /** The running job's process id (on POSIX also its process group's id); null before spawn. */
  pid: number | null;
}

export interface NewApproval {
  id: string;
  kind: ApprovalKind;
  text: string;
  reason?: string;
  requestedBy: string;
  channel: string;
  threadTs?: string;
  eventKey?: string;
  resume?: unknown;
  expiresAt: number;
}

export interface TransitionPatch {
  decided_by?: string;
  decided_at?: number;
  started_at?: number;
  finished_at?: number;
  exit_code?: number | null;
  output?: string;
}

const PATCHABLE = ["decided_by", "decided_at", "started_at", "finished_at", "exit_code", "output"] as const;

export class ApprovalStore {
  private readonly insertQ: Statement;
  private readonly getQ: Statement<ApprovalRow, [string]>;

  constructor(private readonly db: Database) {
    this.insertQ = db.prepare(
      `INSERT INTO approvals (id, kind, text, reason, status, requested_by, channel, thread_ts, event_key, resume, created_at, expires_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.getQ = db.prepare("SELECT * FROM approvals WHERE id = ?");
  }

  create(a: NewApproval, now: number): ApprovalRow {
    this.insertQ.run(
      a.id,
      a.kind,
      a.text,
      a.reason ?? null,
      a.requestedBy,
      a.channel,
      a.threadTs ?? null,
      a.eventKey ?? null,
      a.resume === undefined ? null : JSON.stringify(a.resume),
      now,
      a.expiresAt,
    );
    return this.getQ.get(a.id) as ApprovalRow;
  }

  setCard(id: string, ts: string): void {
    this.db.run("UPDATE approvals SET card_ts = ? WHERE id = ?", [ts, id]);
  }

  /** Records the job's process once spawned, so a restart after a crash can stop it. */
  setPid(id: string, pid: number): void {
    this.db.run("UPDATE approvals SET pid = ? WHERE id = ? AND status = 'running'", [pid, id]);
  }

  get(id: string): ApprovalRow | null {
    return this.getQ.get(id);
  }

  /** Moves `id` from one of `from` to `to`; false if it was not in `from` (someone else won). */
  transition(id: string, from: ApprovalStatus[], to: ApprovalStatus, patch: TransitionPatch = {}): boolean {
    const sets = ["status = ?"];
    const args: (string | number | null)[] = [to];
    for (const k of PATCHABLE) {
      if (patch[k] !== undefined) {
        sets.push(`${k} = ?`);
        args.push(patch[k] as string | number | null);
      }
    }
    const marks = from.map(() => "?").join(", ");
    const sql = `UPDATE approvals SET ${sets.join(", ")} WHERE id = ? AND status IN (${marks})`;
    return this.db.run(sql, [...args, id, ...from]).changes === 1;
  }

  list(limit = 200): ApprovalRow[] {
    return this.db.query<ApprovalRow, [number]>("SELECT * FROM approvals ORDER BY created_at DESC LIMIT ?").all(limit);
  }

  withStatus(status: ApprovalStatus): ApprovalRow[] {
    return this.db.query<ApprovalRow, [string]>("SELECT * FROM approvals WHERE status = ? ORDER BY created_at").all(status);
  }

  expiredPending(now: number): ApprovalRow[] {
    return this.db
      .query<ApprovalRow, [number]>("SELECT * FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at")
      .all(now);
  }

  /**
   * Forgets finished approvals (each may hold 100 kB of output) created before `before`.
   * Open ones (pending, approved, running) are kept whatever their age.
   */
  purge(before: number): number {
    return this.db.run(
      "DELETE FROM approvals WHERE status IN ('succeeded', 'failed', 'denied', 'expired', 'interrupted') AND created_at < ?",
      [before],
    ).changes;
  }

  countByStatus(): Record<string, number> {
    const rows = this.db
      .query<{ status: string; n: number }, []>("SELECT status, count(*) AS n FROM approvals GROUP BY status")
      .all();
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}
