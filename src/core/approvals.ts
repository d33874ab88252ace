// Approvals: jobs become cards, named approvers decide, the store's conditional updates
// make every decision count once, and a job runs at most once whatever happens.
import type { Agent, JobOutcome, JobRequest } from "../agents/types.ts";
import { formatJobResult, type JobResult, onJobSpawn } from "../jobs/exec.ts";
import { shellRefusal } from "../jobs/shell.ts";
import { type OrphanOutcome, stopOrphanJob } from "../jobs/orphans.ts";
import type { ApprovalKind, ApprovalRow } from "../store/approvals.ts";
import type { Store } from "../store/index.ts";
import { buildCard, type CardView } from "./cards.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { queueEphemeral, queueReply, queueUpdate } from "./replies.ts";
import { escapeSlack, formatAnswer } from "./text.ts";
import { settleWithin } from "./wait.ts";

export interface ApprovalsOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  approvers: string[];
  approvalTtlMs: number;
  codeCommandSet: boolean;
  agent: Agent;
  agentTimeoutMs: number;
  /** Runs the job; `onSpawn` (also reachable through the signal, see onJobSpawn) records its pid. */
  runJob(a: ApprovalRow, signal: AbortSignal, onSpawn?: (pid: number) => void): Promise<JobResult>;
  /** Stops a job process left by a crashed run; defaults to stopOrphanJob (tests swap it). */
  stopOrphan?: (pid: number, startedAt: number | null) => OrphanOutcome;
  recordUsage(u: NonNullable<Awaited<ReturnType<Agent["answer"]>>["usage"]>, latencyMs: number, eventKey?: string): void;
  kick(): void;
  /**
   * False in `replay`: an Approve it answers is recorded, and the bot (whose expiry worker
   * looks for approved jobs) runs it. A short-lived replay must not own a running job.
   */
  runsJobs?: boolean;
  /** The platform whose shell runs exec jobs (tests pass win32). */
  platform?: NodeJS.Platform;
}

export interface JobOrigin {
  requestedBy: string;
  channel: string;
  threadTs?: string;
  eventKey?: string;
}

/** The result summary, escaped, within one message however many characters escaping adds. */
function resultMessage(result: JobResult): string {
  let max = 3000;
  let text = escapeSlack(formatJobResult(result, max));
  while (text.length > 3800 && max > 200) {
    max = Math.floor(max * 0.7);
    text = escapeSlack(formatJobResult(result, max));
  }
  return text;
}

/**
 * The card's thread: the thread the card was posted in, or the card's own. Slack wants
 * a thread's parent ts for replies, never a reply's, so a card inside a thread is not one.
 */
function cardThread(row: ApprovalRow): string | undefined {
  return row.thread_ts ?? row.card_ts ?? undefined;
}

/** The thread's note on a job that was running when clawdbot stopped. */
function interruptedText(row: ApprovalRow, left: OrphanOutcome): string {
  const head = `:warning: Job ${row.id} was interrupted: clawdbot stopped while it ran.`;
  const tail = "It was not re-run; ask again if it is still needed.";
  if (left === "stopped") return `${head} Its process (pid ${row.pid}) was still running and has been stopped. ${tail}`;
  if (left === "not-ours") return `${head} Its pid ${row.pid} now belongs to another process, which was left alone. ${tail}`;
  return `${head} ${tail}`;
}

/** What the card shows of a row (until the store returns the domain type, which is one). */
function cardView(r: ApprovalRow): CardView {
  return { id: r.id, kind: r.kind, text: r.text, reason: r.reason, requestedBy: r.requested_by, status: r.status, decidedBy: r.decided_by, exitCode: r.exit_code };
}

/** Where a card's outbox item says which approval it shows. */
export const CARD_KEY_PREFIX = "card:";

export class Approvals {
  private readonly running = new Map<string, AbortController>();
  private readonly tasks = new Set<Promise<void>>();

  constructor(private readonly o: ApprovalsOptions) {}

  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Turns a job request into a card (inside the caller's transaction), or into a refusal
   * that says how to enable jobs. Returns the approval id, or null if refused.
   */
  request(job: JobRequest, from: JobOrigin): string | null {
    const { store, clock } = this.o;
    const now = clock.now();
    const refuse = (text: string) => {
      queueReply(store, { channel: from.channel, threadTs: from.threadTs, text, eventKey: from.eventKey, noDedupe: true }, now);
      return null;
    };
    if (this.o.approvers.length === 0) {
      return refuse(
        `I can't run ${job.kind} jobs here: no approvers are configured. An admin can enable them by setting CLAWDBOT_APPROVERS to the Slack user IDs who may approve.`,
      );
    }
    if (job.kind === "code" && !this.o.codeCommandSet) {
      return refuse("I can't run code jobs here: CLAWDBOT_CODE_COMMAND is not set. An admin can set it to enable them.");
    }
    if (!job.text.trim()) return refuse(`That ${job.kind} job is empty; say what to run.`);
    // Refused before anyone approves a card that could not run as shown.
    const unrunnable = job.kind === "exec" ? shellRefusal(job.text, this.o.platform) : undefined;
    if (unrunnable) return refuse(`I can't run that command here: ${unrunnable}`);
    const id = `ap_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;
    const row = store.approvals.create(
      {
        id,
        kind: job.kind as ApprovalKind,
        text: job.text,
        reason: job.reason,
        requestedBy: from.requestedBy,
        channel: from.channel,
        threadTs: from.threadTs,
        eventKey: from.eventKey,
        resume: job.resume,
        expiresAt: now + this.o.approvalTtlMs,
      },
      now,
    );
    const card = buildCard(cardView(row));
    queueReply(
      store,
      { eventKey: `${CARD_KEY_PREFIX}${id}`, channel: from.channel, threadTs: from.threadTs, text: card.text, blocks: card.blocks, noDedupe: true },
      now,
    );
    this.o.log.info(`approval ${id} requested by ${from.requestedBy}: ${job.kind}`, { approval: id });
    return id;
  }

  /** A card reached Slack: remember where, so it can be updated. */
  cardPosted(approvalId: string, ts: string | null): void {
    if (ts) this.o.store.approvals.setCard(approvalId, ts);
  }

  /** A click on Approve or Deny. Runs inside the pipeline; the job itself runs in the background. */
  decide(a: { approvalId: string; user: string; approve: boolean; channel: string; messageTs?: string; eventKey: string }): void {
    const { store, clock, log } = this.o;
    const now = clock.now();
    const tell = (text: string) => queueEphemeral(store, { channel: a.channel, user: a.user, text, eventKey: a.eventKey }, now);
    const row = store.approvals.get(a.approvalId);
    if (!row) return void tell(`There is no approval ${a.approvalId}.`);
    if (row.card_ts === null && a.messageTs) store.approvals.setCard(row.id, a.messageTs);
    if (!this.o.approvers.includes(a.user)) {
      log.warn(`approval ${row.id}: ${a.user} is not an approver; refused`, { approval: row.id, user: a.user });
      return void tell("Only the configured approvers can decide on this job. Nothing was changed.");
    }
    if (row.status === "pending" && row.expires_at <= now) {
      this.expire(row);
      return void tell("This approval has expired; nothing will run.");
    }
    // The kill switch: no job starts while paused. Deny still works; the card stays open.
    if (a.approve && store.settings.isPaused()) {
      log.info(`approval ${row.id}: approve by ${a.user} refused, clawdbot is paused`, { approval: row.id });
      return void tell("clawdbot is paused: no job starts. The card stays open; approve it again after an admin runs `/claw resume`.");
    }
    const to = a.approve ? "approved" : "denied";
    if (!store.approvals.transition(row.id, ["pending"], to, { decided_by: a.user, decided_at: now })) {
      const current = store.approvals.get(row.id);
      return void tell(`This job was already decided (${current?.status ?? "unknown"}); nothing more will happen.`);
    }
    log.info(`approval ${row.id} ${to} by ${a.user}`, { approval: row.id });
    this.updateCard(row.id);
    // After the caller's transaction commits: a job never starts on a decision that could
    // still roll back, and a crash before the start leaves it `approved` for recover().
    if (a.approve && this.o.runsJobs !== false) queueMicrotask(() => this.startSafely(row.id));
    else void this.finishWithAgent(row.id, { status: "denied", exitCode: null, output: "" });
  }

  private startSafely(id: string): void {
    try {
      this.start(id);
    } catch (err) {
      this.o.log.error(`approval ${id}: could not start the job: ${(err as Error).message}; it starts at the next start-up`, { approval: id });
    }
  }

  /** Approved jobs that never started (a crash, or the kill switch): start them unless paused. */
  startApproved(): number {
    if (this.o.runsJobs === false) return 0;
    try {
      if (this.o.store.settings.isPaused()) return 0;
      const rows = this.o.store.approvals.withStatus("approved");
      for (const row of rows) this.startSafely(row.id);
      return rows.length;
    } catch (err) {
      this.o.log.error(`cannot look for approved jobs: ${(err as Error).message}`);
      return 0;
    }
  }

  /** Runs an approved job once: approved → running is the gate only one caller passes. */
  start(id: string): void {
    const { store, clock } = this.o;
    if (!store.approvals.transition(id, ["approved"], "running", { started_at: clock.now() })) return;
    this.updateCard(id);
    const ctl = new AbortController();
    this.running.set(id, ctl);
    onJobSpawn(ctl.signal, (pid) => this.recordPid(id, pid));
    // Nothing may escape as an unhandled rejection: Bun exits on one.
    const task = this.execute(id, ctl.signal)
      .catch((err) => this.o.log.error(`approval ${id}: job bookkeeping failed: ${(err as Error).message}`, { approval: id }))
      .finally(() => {
      this.running.delete(id);
      this.tasks.delete(task);
    });
    this.tasks.add(task);
  }

  private recordPid(id: string, pid: number): void {
    try {
      this.o.store.approvals.setPid(id, pid);
    } catch (err) {
      this.o.log.warn(`approval ${id}: could not record pid ${pid}: ${(err as Error).message}`, { approval: id });
    }
  }

  private async execute(id: string, signal: AbortSignal): Promise<void> {
    const { store, clock, log } = this.o;
    const row = store.approvals.get(id);
    if (!row) return;
    let result: JobResult;
    try {
      result = await this.o.runJob(row, signal, (pid) => this.recordPid(id, pid));
    } catch (err) {
      result = { exitCode: null, output: `could not run: ${(err as Error).message}`, timedOut: false, durationMs: 0, truncatedBytes: 0 };
    }
    if (signal.aborted) return; // shutting down: recovery reports it as interrupted
    const ok = result.exitCode === 0 && !result.timedOut;
    const now = clock.now();
    store.tx(() => {
      store.approvals.transition(id, ["running"], ok ? "succeeded" : "failed", {
        finished_at: now,
        exit_code: result.exitCode,
        output: result.output.slice(-100_000),
      });
      queueReply(
        store,
        { channel: row.channel, threadTs: cardThread(row), text: resultMessage(result), noDedupe: true },
        now,
      );
      if (result.output.length > 3000) this.queueFullOutput(row, result.output, now);
    });
    log.info(`approval ${id} job ${ok ? "succeeded" : "failed"} (exit ${result.exitCode})`, { approval: id });
    this.updateCard(id);
    this.o.kick();
    await this.finishWithAgent(id, { status: ok ? "succeeded" : "failed", exitCode: result.exitCode, output: result.output });
  }

  /**
   * The whole output as one file in the card's thread, after the summary: one upload instead
   * of hundreds of rate-limited messages. If Slack refuses files, the sender posts it as
   * numbered messages instead (see OutboxSender), so it is never cut silently either way.
   */
  private queueFullOutput(row: ApprovalRow, output: string, now: number): void {
    this.o.store.outbox.enqueue(
      {
        op: "upload",
        channel: row.channel,
        threadTs: cardThread(row),
        text: `Full output of ${row.id}: ${output.length.toLocaleString("en-US")} characters.`,
        content: output,
        fileName: `${row.id}-output.txt`,
        // Also the label of the numbered messages if the upload is refused.
        fileTitle: `Output of ${row.id}`,
      },
      now,
    );
  }

  /** An agent that asked for the job gets its outcome and may answer once more. */
  private async finishWithAgent(id: string, outcome: JobOutcome): Promise<void> {
    const { store, clock, log, agent } = this.o;
    try {
      const row = store.approvals.get(id);
      if (!row?.resume || !agent.resume) return this.o.kick();
      const started = clock.now();
      const reply = await agent.resume(JSON.parse(row.resume), outcome, AbortSignal.timeout(this.o.agentTimeoutMs));
      if (reply.usage) this.o.recordUsage(reply.usage, clock.now() - started, row.event_key ?? undefined);
      store.tx(() => {
        const thread = row.thread_ts ?? undefined;
        if (reply.reply.trim()) queueReply(store, { channel: row.channel, threadTs: thread, text: formatAnswer(reply.reply), noDedupe: true }, clock.now());
        for (const job of reply.jobs) this.request(job, { requestedBy: row.requested_by, channel: row.channel, threadTs: thread, eventKey: row.event_key ?? undefined });
      });
    } catch (err) {
      log.error(`agent follow-up for ${id} failed: ${(err as Error).message}`, { approval: id });
    }
    this.o.kick();
  }

  expire(row: ApprovalRow): void {
    if (this.o.store.approvals.transition(row.id, ["pending"], "expired", { decided_at: this.o.clock.now() })) {
      this.o.log.info(`approval ${row.id} expired`, { approval: row.id });
      this.updateCard(row.id);
      void this.finishWithAgent(row.id, { status: "expired", exitCode: null, output: "" });
    }
  }

  /** The expiry worker's tick. */
  expireDue(): number {
    const due = this.o.store.approvals.expiredPending(this.o.clock.now());
    for (const row of due) this.expire(row);
    return due.length;
  }

  /**
   * At start-up: jobs that were running when the process died are interrupted (reported,
   * never re-run); jobs approved but never started are started now (they never ran).
   */
  recover(): void {
    const { store, clock, log } = this.o;
    for (const row of store.approvals.withStatus("running")) {
      // A crash (kill -9) leaves the detached job running: stop it before calling it interrupted.
      const left = row.pid === null ? "gone" : this.stopOrphan(row);
      if (!store.approvals.transition(row.id, ["running"], "interrupted", { finished_at: clock.now() })) continue;
      log.warn(`approval ${row.id} was running when clawdbot stopped: marked interrupted, not re-run`, { approval: row.id, pid: row.pid, process: left });
      queueReply(
        store,
        { channel: row.channel, threadTs: cardThread(row), text: interruptedText(row, left), noDedupe: true },
        clock.now(),
      );
      this.updateCard(row.id);
      void this.finishWithAgent(row.id, { status: "interrupted", exitCode: null, output: "" });
    }
    this.startApproved();
    this.o.kick();
  }

  private stopOrphan(row: ApprovalRow): OrphanOutcome {
    const pid = row.pid as number;
    try {
      return (this.o.stopOrphan ?? stopOrphanJob)(pid, row.started_at);
    } catch (err) {
      this.o.log.warn(`approval ${row.id}: could not check process ${pid}: ${(err as Error).message}`, { approval: row.id });
      return "gone";
    }
  }

  /** Shutdown: stop running jobs; the next start reports them as interrupted. */
  async stop(timeoutMs: number): Promise<void> {
    for (const ctl of this.running.values()) ctl.abort();
    await settleWithin(this.tasks, timeoutMs, this.o.clock);
  }

  private updateCard(id: string): void {
    const { store, clock } = this.o;
    const row = store.approvals.get(id);
    if (!row?.card_ts) return;
    const card = buildCard(cardView(row));
    queueUpdate(store, { channel: row.channel, ts: row.card_ts, text: card.text, blocks: card.blocks }, clock.now());
    this.o.kick();
  }
}
