// Approvals as a persisted state machine. Every transition is a single conditional
// UPDATE: two clicks, two approvers or a click racing expiry can move a row only once.
import type { Database, Statement } from "bun:sqlite";
import type { Approval, ApprovalStatus, CardCopy, NewApproval, TransitionPatch } from "../../core/store.ts";
import { selectList } from "./columns.ts";

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

export class SqliteApprovals {
  private readonly insertQ: Statement;
  private readonly insertCardQ: Statement;
  private readonly getQ: Statement<Approval, [string]>;
  private readonly cardsQ: Statement<CardCopy, [string]>;

  constructor(private readonly db: Database) {
    this.insertQ = db.prepare(
      `INSERT INTO approvals (id, kind, text, reason, status, requested_by, channel, thread_ts, event_key, resume, created_at, expires_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertCardQ = db.prepare("INSERT OR IGNORE INTO approval_cards (approval_id, seq, channel, thread_ts) VALUES (?, ?, ?, ?)");
    this.getQ = db.prepare(`SELECT ${COLUMNS} FROM approvals WHERE id = ?`);
    this.cardsQ = db.prepare("SELECT channel, thread_ts AS threadTs, card_ts AS ts FROM approval_cards WHERE approval_id = ? ORDER BY seq");
  }

  create(a: NewApproval, now: number): Approval {
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
    const cards = a.cards ?? [{ channel: a.channel, threadTs: a.threadTs }];
    for (const [i, c] of cards.entries()) this.insertCardQ.run(a.id, i, c.channel, c.threadTs ?? null);
    return this.getQ.get(a.id) as Approval;
  }

  setCard(id: string, channel: string, ts: string): void {
    this.db.run("UPDATE approval_cards SET card_ts = ? WHERE approval_id = ? AND channel = ?", [ts, id, channel]);
  }

  cards(id: string): CardCopy[] {
    return this.cardsQ.all(id);
  }

  /** Records the job's process once spawned, so a restart after a crash can stop it. */
  setPid(id: string, pid: number): void {
    this.db.run("UPDATE approvals SET pid = ? WHERE id = ? AND status = 'running'", [pid, id]);
  }

  get(id: string): Approval | null {
    return this.getQ.get(id);
  }

  /** Moves `id` from one of `from` to `to`; false if it was not in `from` (someone else won). */
  transition(id: string, from: ApprovalStatus[], to: ApprovalStatus, patch: TransitionPatch = {}): boolean {
    const sets = ["status = ?"];
    const args: (string | number | null)[] = [to];
    for (const [field, column] of Object.entries(PATCHABLE) as [keyof TransitionPatch, string][]) {
      if (patch[field] !== undefined) {
        sets.push(`${column} = ?`);
        args.push(patch[field] as string | number | null);
      }
    }
    const marks = from.map(() => "?").join(", ");
    const sql = `UPDATE approvals SET ${sets.join(", ")} WHERE id = ? AND status IN (${marks})`;
    return this.db.run(sql, [...args, id, ...from]).changes === 1;
  }

  list(limit = 200): Approval[] {
    return this.db.query<Approval, [number]>(`SELECT ${COLUMNS} FROM approvals ORDER BY created_at DESC LIMIT ?`).all(limit);
  }

  withStatus(status: ApprovalStatus, limit = -1): Approval[] {
    // LIMIT -1 is SQLite's "no limit".
    return this.db
      .query<Approval, [string, number]>(`SELECT ${COLUMNS} FROM approvals WHERE status = ? ORDER BY created_at LIMIT ?`)
      .all(status, limit);
  }

  expiredPending(now: number): Approval[] {
    return this.db
      .query<Approval, [number]>(`SELECT ${COLUMNS} FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at`)
      .all(now);
  }

  /**
   * Forgets finished approvals (each may hold 100 kB of output) created before `before`.
   * Open ones (pending, approved, running) are kept whatever their age.
   */
  purge(before: number): number {
    const done = "status IN ('succeeded', 'failed', 'denied', 'expired', 'interrupted') AND created_at < ?";
    this.db.run(`DELETE FROM approval_cards WHERE approval_id IN (SELECT id FROM approvals WHERE ${done})`, [before]);
    return this.db.run(`DELETE FROM approvals WHERE ${done}`, [before]).changes;
  }

  countByStatus(): Record<string, number> {
    const rows = this.db
      .query<{ status: string; n: number }, []>("SELECT status, count(*) AS n FROM approvals GROUP BY status")
      .all();
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }
}
