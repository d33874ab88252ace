// Approvals: jobs become cards, named approvers decide, the store's conditional updates
// make every decision count once, and a job runs at most once whatever happens.
import type { Agent, JobOutcome, JobRequest } from "../agents/types.ts";
import { type CardRoute, routeHere, type Where } from "./card-routes.ts";
import { buildCard } from "./cards.ts";
import type { Clock } from "./clock.ts";
import type { StartProgress } from "./job-progress.ts";
import type { JobRun, Jobs, OrphanOutcome } from "./jobs.ts";
import type { Logger } from "./logger.ts";
import { queueEphemeral, queueReply, queueUpdate, type ReplyTo } from "./replies.ts";
import type { Approval, ApprovalKind, CardCopy, Store, StoreTx } from "./store.ts";
import { escapeSlack, formatAnswer } from "./text.ts";
import { settleWithin } from "./wait.ts";

export interface ApprovalsOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  approvers: string[];
  /** False (CLAWDBOT_SELF_APPROVAL=off): nobody approves a job they requested themselves. Default true. */
  selfApproval?: boolean;
  approvalTtlMs: number;
  codeCommandSet: boolean;
  agent: Agent;
  agentTimeoutMs: number;
  /** Runs approved jobs and stops the ones a crash left behind. */
  jobs: Jobs;
  /** This instance, recorded as the runner of the jobs it starts. */
  owner: string;
  /** Shows a long job's latest output in the card's thread while it runs; none: only the result. */
  progress?: StartProgress;
  recordUsage(u: NonNullable<Awaited<ReturnType<Agent["answer"]>>["usage"]>, latencyMs: number, eventKey?: string): Promise<void>;
  kick(): void;
  /**
   * False in `replay`: an Approve it answers is recorded, and the bot (whose expiry worker
   * looks for approved jobs) runs it. A short-lived replay must not own a running job.
   */
  runsJobs?: boolean;
  /** Where a card goes (CardRouter.route); unset: where it was asked. */
  route?(origin: Where, requestedBy: string): Promise<CardRoute>;
}

export interface JobOrigin {
  requestedBy: string;
  eventKey?: string;
  /** Where the card goes and where the requester hears the outcome: Approvals.route(), awaited before the transaction. */
  route: CardRoute;
  /** Where refusals and the note on where the card went go now; default the requester's conversation. */
  tell?: ReplyTo;
}

/** What the caller of decide() does once its transaction committed. */
export type AfterDecision = (() => void) | undefined;

/** The result summary, escaped, within one message however many characters escaping adds. */
function resultMessage(result: JobRun): string {
  let max = 3000;
  let text = escapeSlack(result.describe(max));
  while (text.length > 3800 && max > 200) {
    max = Math.floor(max * 0.7);
    text = escapeSlack(result.describe(max));
  }
  return text;
}

/**
 * A copy's thread: the thread the card was posted in, or the card's own. Slack wants a
 * thread's parent ts for replies, never a reply's, so a card inside a thread is not one.
 */
function cardThread(c: CardCopy): string | undefined {
  return c.threadTs ?? c.ts ?? undefined;
}

/** Where a running job's process was, for a job whose instance died: null while its instance lives. */
export type JobPlace = (row: Approval) => "here" | "elsewhere" | null;
/** What a requester whose card went elsewhere is told of a denial or an expiry. */
const deniedText = (row: Approval) => `Approval ${row.id} was denied${row.decidedBy ? ` by <@${row.decidedBy}>` : ""}; nothing ran.`;
const expiredText = (row: Approval) => `Nobody decided on approval ${row.id} in time; it did not run. Ask again if it is still needed.`;

/** The thread's note on a job that was running when clawdbot stopped. */
function interruptedText(row: Approval, left: OrphanOutcome | "elsewhere"): string {
  const head = `:warning: Job ${row.id} was interrupted: clawdbot stopped while it ran.`;
  const tail = "It was not re-run; ask again if it is still needed.";
  if (left === "elsewhere") {
    return `${head} Its process (pid ${row.pid}) ran on another host (instance ${row.runner}); an admin should check there that it is not still running. ${tail}`;
  }
  if (left === "stopped") return `${head} Its process (pid ${row.pid}) was still running and has been stopped. ${tail}`;
  if (left === "not-ours") return `${head} Its pid ${row.pid} now belongs to another process, which was left alone. ${tail}`;
  if (left === "kill-failed") return `${head} Its process (pid ${row.pid}) was still running and could not be stopped: an admin should end it on the host. ${tail}`;
  return `${head} ${tail}`;
}

const NOT_RUN = { exitCode: null, output: "" };

/** A click on Approve or Deny, and the message its button is on (as Slack says in the payload). */
export interface Decision {
  approvalId: string;
  user: string;
  approve: boolean;
  /** The conversation of the clicked message (the payload's container). */
  channel: string;
  messageTs?: string;
  /** The clicked message's blocks. */
  messageBlocks?: unknown[];
  eventKey: string;
}

/**
 * Whether a click came from one of the approval's card copies: "card" when its channel and
 * message ts are a copy's as recorded. Until a copy's ts is recorded (the click raced the
 * post's answer, or a crash came between them) it is "first-sight" if the clicked message is
 * in that copy's conversation and carries this approval's buttons; the ts is then recorded.
 */
function clickedCard(id: string, cards: CardCopy[], a: Decision): "card" | "first-sight" | "elsewhere" {
  const copy = cards.find((c) => c.channel === a.channel);
  if (copy && copy.ts !== null && copy.ts === a.messageTs) return "card";
  if (!copy || copy.ts !== null || !a.messageTs) return "elsewhere";
  return hasButtonsOf(a.messageBlocks, id) ? "first-sight" : "elsewhere";
}

/** The card's actions block, as buildCard makes it: block_id `approval:<id>`, buttons valued with the id. */
function hasButtonsOf(blocks: unknown[] | undefined, id: string): boolean {
  return (blocks ?? []).some((b) => {
    const block = b as { type?: string; block_id?: string; elements?: { action_id?: string; value?: string }[] };
    return block.type === "actions" && block.block_id === `approval:${id}` && !!block.elements?.some((e) => e.action_id === "approval_approve" && e.value === id);
  });
}

/** Where a card's outbox item says which approval it shows. */
export const CARD_KEY_PREFIX = "card:";

export class Approvals {
  private readonly running = new Map<string, AbortController>();
  private readonly tasks = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly o: ApprovalsOptions) {}

  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Turns a job request into a card (inside the caller's transaction `t`), or into a refusal
   * that says how to enable jobs. Returns the approval id, or null if refused.
   */
  async request(t: StoreTx, job: JobRequest, from: JobOrigin): Promise<string | null> {
    const { clock } = this.o;
    const now = clock.now();
    const tell = from.tell ?? from.route.requester;
    const refuse = async (text: string) => {
      await queueReply(t, { ...tell, text, eventKey: from.eventKey, noDedupe: true }, now);
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
    const unrunnable = this.o.jobs.refusal(job.kind as ApprovalKind, job.text);
    if (unrunnable) return refuse(`I can't run that command here: ${unrunnable}`);
    const id = `ap_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;
    const row = await t.approvals.create(
      {
        id,
        kind: job.kind as ApprovalKind,
        text: job.text,
        reason: job.reason,
        requestedBy: from.requestedBy,
        channel: from.route.requester.channel,
        threadTs: from.route.requester.threadTs,
        eventKey: from.eventKey,
        resume: job.resume,
        expiresAt: now + this.o.approvalTtlMs,
        cards: from.route.copies,
      },
      now,
    );
    const card = buildCard(row);
    for (const copy of from.route.copies) {
      await queueReply(t, { eventKey: `${CARD_KEY_PREFIX}${id}`, ...copy, text: card.text, blocks: card.blocks, noDedupe: true }, now);
      // A command too long for a card: the whole of it beside the card, to read before approving.
      if (card.commandFile) {
        await t.outbox.enqueue(
          {
            op: "upload",
            eventKey: `${CARD_KEY_PREFIX}${id}`,
            ...copy,
            text: `The whole command of ${id}: ${card.commandFile.content.length.toLocaleString("en-US")} characters.`,
            content: card.commandFile.content,
            fileName: card.commandFile.name,
            fileTitle: card.commandFile.title,
          },
          now,
        );
      }
    }
    if (from.route.notice) await queueReply(t, { ...tell, text: `Approval ${id} requested; ${from.route.notice}.`, eventKey: from.eventKey, noDedupe: true }, now);
    this.o.log.info(`approval ${id} requested by ${from.requestedBy}: ${job.kind} (card in ${from.route.copies.map((c) => c.channel).join(", ")})`, { approval: id });
    return id;
  }

  /** Where a job asked in `origin` has its card (Slack lookups: call it before the transaction). */
  route(origin: Where, requestedBy: string): Promise<CardRoute> {
    return this.o.route ? this.o.route(origin, requestedBy) : Promise.resolve(routeHere(origin));
  }

  /** A copy of a card reached Slack: remember where, so it can be updated; one decided meanwhile is updated now. */
  async cardPosted(approvalId: string, channel: string, ts: string | null): Promise<void> {
    if (!ts) return;
    const late = await this.o.store.tx(async (t) => {
      await t.approvals.setCard(approvalId, channel, ts);
      const row = await t.approvals.get(approvalId);
      if (!row || row.status === "pending") return false;
      await this.updateCopies(t, row, (c) => c.channel === channel);
      return true;
    });
    if (late) this.o.kick();
  }

  /**
   * A click on Approve or Deny, inside the caller's transaction `t`. Returns what to do once
   * that transaction committed (start the job, tell the agent): never on a decision that
   * could still roll back. The job itself runs in the background.
   */
  async decide(t: StoreTx, a: Decision): Promise<AfterDecision> {
    const { clock, log } = this.o;
    const now = clock.now();
    const tell = async (text: string): Promise<undefined> => {
      await queueEphemeral(t, { channel: a.channel, user: a.user, text, eventKey: a.eventKey }, now);
    };
    // Who first: anyone else gets the same refusal whatever the id, and learns nothing of it.
    if (!this.o.approvers.includes(a.user)) {
      log.warn(`approval click by ${a.user}, who is not an approver; refused`, { approval: a.approvalId.slice(0, 40), user: a.user });
      return tell("Only the configured approvers can decide on this job. Nothing was changed.");
    }
    const row = await t.approvals.get(a.approvalId);
    if (!row) return tell(`There is no approval ${a.approvalId}.`);
    // A decision counts only from the card: the same id on any other message decides nothing.
    const from = clickedCard(row.id, await t.approvals.cards(row.id), a);
    if (from === "elsewhere") {
      log.warn(`approval ${row.id}: a click by ${a.user} came from ${a.channel}/${a.messageTs ?? "?"}, not from its card; refused`, { approval: row.id, user: a.user });
      return tell(`That button is not on the card of ${row.id}: decide on the card itself. Nothing was changed.`);
    }
    if (from === "first-sight" && a.messageTs) await t.approvals.setCard(row.id, a.channel, a.messageTs);
    // Wall time, as stored when the card was made: the TTL must hold across restarts.
    if (row.status === "pending" && row.expiresAt <= now) {
      const expired = await this.expire(t, row);
      await tell("This approval has expired; nothing will run.");
      return expired ? () => void this.finishWithAgent(row.id, { status: "expired", ...NOT_RUN }) : undefined;
    }
    // The two-person rule. Withdrawing one's own request (Deny) harms nobody: it stays allowed.
    if (a.approve && this.o.selfApproval === false && row.requestedBy === a.user && row.status === "pending") {
      log.warn(`approval ${row.id}: ${a.user} may not approve their own request; refused`, { approval: row.id, user: a.user });
      return tell("You requested this job yourself, and self-approval is off (CLAWDBOT_SELF_APPROVAL=off): another approver must approve it. The card stays open.");
    }
    // The kill switch: no job starts while paused. Deny still works; the card stays open.
    if (a.approve && (await t.settings.isPaused())) {
      log.info(`approval ${row.id}: approve by ${a.user} refused, clawdbot is paused`, { approval: row.id });
      return tell("clawdbot is paused: no job starts. The card stays open; approve it again after an admin runs `/claw resume`.");
    }
    const to = a.approve ? "approved" : "denied";
    if (!(await t.approvals.transition(row.id, ["pending"], to, { decidedBy: a.user, decidedAt: now, decidedIn: a.channel }))) {
      const current = await t.approvals.get(row.id);
      return tell(`This job was already decided (${current?.status ?? "unknown"}); nothing more will happen.`);
    }
    log.info(`approval ${row.id} ${to} by ${a.user}`, { approval: row.id });
    const decided = await this.updateCard(t, row.id);
    if (!a.approve && decided) await this.tellRequester(t, decided, deniedText(decided));
    // A crash before the start leaves it `approved` for recover().
    if (!a.approve) return () => void this.finishWithAgent(row.id, { status: "denied", ...NOT_RUN });
    if (this.o.runsJobs !== false) return () => void this.startSafely(row.id);
    return undefined;
  }

  private async startSafely(id: string): Promise<void> {
    try {
      await this.start(id);
    } catch (err) {
      this.o.log.error(`approval ${id}: could not start the job: ${(err as Error).message}; it starts at the next start-up`, { approval: id });
    }
  }

  /** Approved jobs that never started (a crash, or the kill switch): start them unless paused. */
  async startApproved(): Promise<number> {
    if (this.o.runsJobs === false) return 0;
    try {
      if (await this.o.store.settings.isPaused()) return 0;
      const rows = await this.o.store.approvals.withStatus("approved");
      for (const row of rows) await this.startSafely(row.id);
      return rows.length;
    } catch (err) {
      this.o.log.error(`cannot look for approved jobs: ${(err as Error).message}`);
      return 0;
    }
  }

  /** Runs an approved job once: approved → running is the gate only one caller passes. */
  async start(id: string): Promise<void> {
    const { store, clock } = this.o;
    const row = await store.tx(async (t) =>
      (await t.approvals.transition(id, ["approved"], "running", { startedAt: clock.now(), runner: this.o.owner })) ? this.updateCard(t, id) : null,
    );
    if (!row) return;
    this.o.kick();
    const ctl = new AbortController();
    this.running.set(id, ctl);
    // Stopping already: the job counts as interrupted at the next start, like one cut short.
    if (this.stopping) ctl.abort();
    // Nothing may escape as an unhandled rejection: Bun exits on one.
    const task = this.execute(row, ctl.signal)
      .catch((err) => this.o.log.error(`approval ${id}: job bookkeeping failed: ${(err as Error).message}`, { approval: id }))
      .finally(() => {
        this.running.delete(id);
        this.tasks.delete(task);
      });
    this.tasks.add(task);
  }

  private recordPid(id: string, pid: number): void {
    this.o.store.approvals.setPid(id, pid).catch((err) => {
      this.o.log.warn(`approval ${id}: could not record pid ${pid}: ${(err as Error).message}`, { approval: id });
    });
  }

  private async execute(row: Approval, signal: AbortSignal): Promise<void> {
    const { store, clock, log } = this.o;
    const id = row.id;
    let result: JobRun;
    // The live output goes where the result will: the thread of the copy it was decided through.
    const shownIn = this.o.progress ? (await store.read((t) => this.resultPlaces(t, row)))[0] : undefined;
    const progress = shownIn && this.o.progress?.({ approvalId: id, channel: shownIn.channel, threadTs: shownIn.threadTs });
    try {
      result = await this.o.jobs.run(row, signal, (pid) => this.recordPid(id, pid), progress && ((latest) => progress.output(latest)));
    } catch (err) {
      const output = `could not run: ${(err as Error).message}`;
      result = { exitCode: null, output, timedOut: false, describe: () => output };
    }
    // Before the result is queued, so the thread shows them in that order.
    await progress?.finish(!signal.aborted);
    if (signal.aborted) return; // shutting down: recovery reports it as interrupted
    const ok = result.exitCode === 0 && !result.timedOut;
    const now = clock.now();
    await store.tx(async (t) => {
      await t.approvals.transition(id, ["running"], ok ? "succeeded" : "failed", {
        finishedAt: now,
        exitCode: result.exitCode,
        output: result.output.slice(-100_000),
      });
      for (const to of await this.resultPlaces(t, row)) {
        await queueReply(t, { ...to, text: resultMessage(result), noDedupe: true }, now);
        if (result.output.length > 3000) await this.queueFullOutput(t, row, to, result.output, now);
      }
      await this.updateCard(t, id);
    });
    log.info(`approval ${id} job ${ok ? "succeeded" : "failed"} (exit ${result.exitCode})`, { approval: id });
    this.o.kick();
    await this.finishWithAgent(id, { status: ok ? "succeeded" : "failed", exitCode: result.exitCode, output: result.output });
  }

  /**
   * The whole output as one file in the card's thread, after the summary: one upload instead
   * of hundreds of rate-limited messages. If Slack refuses files, the sender posts it as
   * numbered messages instead (see OutboxSender), so it is never cut silently either way.
   */
  private async queueFullOutput(t: StoreTx, row: Approval, to: Where, output: string, now: number): Promise<void> {
    await t.outbox.enqueue(
      {
        op: "upload",
        channel: to.channel,
        threadTs: to.threadTs,
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
      const row = await store.approvals.get(id);
      if (!row?.resume || !agent.resume) return this.o.kick();
      const started = clock.mono();
      const reply = await agent.resume(JSON.parse(row.resume), outcome, AbortSignal.timeout(this.o.agentTimeoutMs));
      if (reply.usage) await this.o.recordUsage(reply.usage, clock.mono() - started, row.eventKey ?? undefined);
      const here = { channel: row.channel, threadTs: row.threadTs ?? undefined };
      const route = reply.jobs.length ? await this.route(here, row.requestedBy) : routeHere(here);
      await store.tx(async (t) => {
        if (reply.reply.trim()) await queueReply(t, { ...here, text: formatAnswer(reply.reply), noDedupe: true }, clock.now());
        for (const job of reply.jobs) await this.request(t, job, { requestedBy: row.requestedBy, eventKey: row.eventKey ?? undefined, route });
      });
    } catch (err) {
      log.error(`agent follow-up for ${id} failed: ${(err as Error).message}`, { approval: id });
    }
    this.o.kick();
  }

  /** pending → expired inside `t`, card updated; false if it was decided meanwhile. */
  private async expire(t: StoreTx, row: Approval): Promise<boolean> {
    if (!(await t.approvals.transition(row.id, ["pending"], "expired", { decidedAt: this.o.clock.now() }))) return false;
    this.o.log.info(`approval ${row.id} expired`, { approval: row.id });
    await this.updateCard(t, row.id);
    await this.tellRequester(t, row, expiredText(row));
    return true;
  }

  /** The expiry worker's tick. */
  async expireDue(): Promise<number> {
    const { store } = this.o;
    const due = await store.approvals.expiredPending(this.o.clock.now());
    for (const row of due) {
      if (!(await store.tx((t) => this.expire(t, row)))) continue;
      this.o.kick();
      void this.finishWithAgent(row.id, { status: "expired", ...NOT_RUN });
    }
    return due.length;
  }

  /**
   * At start-up: jobs that were running when their instance died are interrupted (reported,
   * never re-run); jobs approved but never started are started now (they never ran).
   */
  async recover(place: JobPlace): Promise<void> {
    await this.interruptOrphans(place);
    await this.startApproved();
    this.o.kick();
  }

  /**
   * Jobs whose instance died while they ran (this process in an earlier life, or a peer the
   * cluster took over) are marked interrupted and reported in their card's thread, once
   * whoever else looks; a process they left on this host is stopped first.
   */
  async interruptOrphans(place: JobPlace): Promise<number> {
    const { store, clock, log } = this.o;
    let n = 0;
    for (const row of await store.approvals.withStatus("running")) {
      const where = this.running.has(row.id) ? null : place(row);
      if (where === null) continue;
      // A crash (kill -9) leaves the detached job running: stop it before calling it interrupted.
      const left = row.pid === null ? "gone" : where === "here" ? this.stopOrphan(row) : "elsewhere";
      const interrupted = await store.tx(async (t) => {
        if (!(await t.approvals.transition(row.id, ["running"], "interrupted", { finishedAt: clock.now() }))) return false;
        for (const to of await this.resultPlaces(t, row)) await queueReply(t, { ...to, text: interruptedText(row, left), noDedupe: true }, clock.now());
        await this.updateCard(t, row.id);
        return true;
      });
      if (!interrupted) continue;
      n++;
      log.warn(`approval ${row.id} was running when its instance ${row.runner ?? "(unknown)"} stopped: marked interrupted, not re-run`, {
        approval: row.id,
        pid: row.pid,
        process: left,
      });
      void this.finishWithAgent(row.id, { status: "interrupted", ...NOT_RUN });
    }
    if (n) this.o.kick();
    return n;
  }

  private stopOrphan(row: Approval): OrphanOutcome {
    const pid = row.pid as number;
    try {
      return this.o.jobs.stopOrphan(pid, row.startedAt);
    } catch (err) {
      this.o.log.warn(`approval ${row.id}: could not check process ${pid}: ${(err as Error).message}`, { approval: row.id });
      return "gone";
    }
  }

  /** Shutdown: stop running jobs; the next start reports them as interrupted. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const ctl of this.running.values()) ctl.abort();
    await settleWithin(this.tasks, timeoutMs, this.o.clock);
  }

  /** Queues the update of every copy of the card in Slack (inside `t`); returns the approval as it is now. */
  private async updateCard(t: StoreTx, id: string): Promise<Approval | null> {
    const row = await t.approvals.get(id);
    if (row) await this.updateCopies(t, row, () => true);
    return row;
  }

  private async updateCopies(t: StoreTx, row: Approval, which: (c: CardCopy) => boolean): Promise<void> {
    const card = buildCard(row);
    for (const c of await t.approvals.cards(row.id)) {
      if (c.ts && which(c)) await queueUpdate(t, { channel: c.channel, ts: c.ts, text: card.text, blocks: card.blocks }, this.o.clock.now());
    }
  }

  /**
   * Where a job's result goes: the thread of the copy it was decided through (the approver who
   * decided reads it there), and the requester's conversation when no copy is there (the card
   * went to an approval channel or to the approvers' DMs).
   */
  private async resultPlaces(t: StoreTx, row: Approval): Promise<Where[]> {
    const cards = await t.approvals.cards(row.id);
    const decided = cards.find((c) => c.channel === row.decidedIn) ?? cards[0];
    const places: Where[] = decided ? [{ channel: decided.channel, threadTs: cardThread(decided) }] : [];
    if (!cards.some((c) => c.channel === row.channel)) places.push({ channel: row.channel, threadTs: row.threadTs ?? undefined });
    return places;
  }

  /** A note for the requester when their conversation has no copy of the card (it shows the outcome itself). */
  private async tellRequester(t: StoreTx, row: Approval, text: string): Promise<void> {
    if ((await t.approvals.cards(row.id)).some((c) => c.channel === row.channel)) return;
    await queueReply(t, { channel: row.channel, threadTs: row.threadTs ?? undefined, text, noDedupe: true }, this.o.clock.now());
  }
}
