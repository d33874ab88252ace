// An inbound record becomes an answer: kill switch, relay context, agent, then replies and
// approval cards written to the outbox in the same transaction that marks the event
// answered. A crash before that commit leaves the event `received`: it is answered after
// the restart. A crash after it leaves the reply in the outbox: it is sent after the restart.
import type { Agent, ContextMessage } from "../agents/types.ts";
import type { RelayClient } from "../relay/client.ts";
import type { Approvals } from "./approvals.ts";
import { type Attachments, type MessageFile, messageFiles, unreadNote } from "./attachments.ts";
import type { Clock } from "./clock.ts";
import { handleSlashCommand, isAgentQuestion, type StatusSource } from "./commands.ts";
import type { Commit } from "./group-commit.ts";
import type { Logger } from "./logger.ts";
import type { LiveTarget, OpenLive } from "./live-answer.ts";
import type { Queued } from "./outbox-sender.ts";
import { queueReply, queueReplyInto, type Reply, type ReplyTo } from "./replies.ts";
import type { SignsOfLife, SignTarget } from "./sign-of-life.ts";
import { Semaphore } from "./semaphore.ts";
import type { EventKind, InboundEvent, LiveMessage, Store, StoreTx } from "./store.ts";
import { escapeSlack, formatAnswer, stripMention, unescapeSlack } from "./text.ts";
import { settleWithin } from "./wait.ts";

/** The message being answered, as the conversation context port sees it. */
export interface ContextQuery {
  kind: EventKind;
  channel: string;
  ts: string | undefined;
  threadTs: string | undefined;
  user: string;
  /** Already unescaped: what the user typed. */
  text: string;
}

/** The conversation so far, for the agent (the relay's, or the Slack thread's); [] when there is none. Never throws. */
export type ContextSource = (m: ContextQuery) => Promise<ContextMessage[]>;

export interface PipelineOptions {
  store: Store;
  /** Claims and answers commit with the other writes of their event-loop turn (group commit). */
  commit: Commit;
  clock: Clock;
  log: Logger;
  agent: Agent;
  relay: RelayClient | null;
  approvals: Approvals;
  admins: string[];
  agentTimeoutMs: number;
  owner: string;
  botUserId(): string | undefined;
  botId?(): string | undefined;
  /** How many events are answered at once (agent calls in parallel). */
  concurrency?: number;
  context: ContextSource;
  /** Reads what the agent can use of a message's files (attachments.ts); never throws. */
  readFiles(files: MessageFile[]): Promise<Attachments>;
  /** Whether the bot can post in a conversation (a /claw may come from one it is not in). */
  canPost(channel: string): Promise<boolean>;
  status: StatusSource;
  /** The sign that a question is being worked on; none in tests that don't look. */
  signs?: SignsOfLife;
  /** Shows an answer in Slack while the agent produces it; without it answers come whole. */
  openLive?: OpenLive;
  /** The outbox has work: the items just queued for one channel (sent without reading them back), or unknown. */
  kick(queued?: Queued): void;
  /** In the answer's transaction: the outbox claims the first reply there if its channel is free (OutboxSender.claimInto). */
  claimInto(t: StoreTx, queued: Queued): Promise<Queued>;
  /** Takes every configured secret (and URL passwords) out of text from outside: agent errors, conversation context. */
  redact(text: string): string;
}

/** Agent calls in parallel: enough to hide latency, few enough for a small Windows host. */
export const DEFAULT_CONCURRENCY = 8;

/** How long an answer's lease lasts past the agent's timeout (the relay, the store), so `replay` leaves it alone. */
const LEASE_SLACK_MS = 60_000;

export const PAUSED_NOTICE = ":double_vertical_bar: clawdbot is paused by an admin; this message was not sent to the agent.";

export class Pipeline {
  /** Events being answered in this process (one answer per event, even if delivered twice). */
  private readonly active = new Map<string, Promise<void>>();
  private stopping = false;
  private readonly slots: Semaphore;

  constructor(private readonly o: PipelineOptions) {
    this.slots = new Semaphore(o.concurrency ?? DEFAULT_CONCURRENCY);
  }

  get inFlight(): number {
    return this.active.size;
  }

  /** The lease an event is taken with for answering (the receiver records fresh events with it). */
  lease(now: number): { owner: string; until: number } {
    return { owner: this.o.owner, until: now + this.o.agentTimeoutMs + LEASE_SLACK_MS };
  }

  /** Answers a recorded event; never throws. `recorded`: the event as the receiver recorded it, with lease(). */
  process(key: string, recorded?: InboundEvent): Promise<void> {
    const existing = this.active.get(key);
    if (existing) return existing;
    const p = this.run(key, recorded)
      .catch((err) => this.o.log.error(`answering ${key} failed: ${String(err)}`, { event: key }))
      .finally(() => this.active.delete(key));
    this.active.set(key, p);
    return p;
  }

  /** Everything received and never answered (a crash, a restart): answer it now. */
  async recover(): Promise<number> {
    const rows = await this.o.store.events.unanswered();
    if (rows.length) this.o.log.info(`answering ${rows.length} events received before the last stop`);
    await Promise.all(rows.map((r) => this.process(r.key)));
    return rows.length;
  }

  /**
   * Stops taking work and waits for answers in flight, up to `timeoutMs`. With
   * `finishReceived` (the bot's graceful stop, after the transports closed, so nothing new
   * arrives) it first takes up everything received and not yet answered. What is not
   * answered by then stays `received` and is answered after the next start.
   */
  async stop(timeoutMs: number, { finishReceived = false } = {}): Promise<void> {
    if (finishReceived && !this.stopping) for (const r of await this.o.store.events.unanswered()) void this.process(r.key);
    this.stopping = true;
    await settleWithin(this.active.values(), timeoutMs);
  }

  private async run(key: string, recorded?: InboundEvent): Promise<void> {
    if (this.stopping) return;
    // Before the wait for a slot: however busy the agent is, the user sees within a second
    // that the message was taken up.
    await this.showSign(key, recorded);
    // A burst must not start a thousand agent processes at once: wait for a slot first,
    // and claim after (unless most of the lease taken at record is left), so the lease
    // covers the work from when it really starts.
    await this.slots.acquire();
    try {
      await this.answer(key, recorded);
    } finally {
      this.slots.release();
    }
  }

  /** Takes (or renews) the event's lease: see lease(). */
  private claim(t: StoreTx, key: string): Promise<boolean> {
    const now = this.o.clock.now();
    return t.events.claim(key, this.o.owner, now, this.lease(now).until);
  }

  /**
   * Commits an answer only while this instance still holds the event: an instance the
   * cluster took for dead (cut off longer than the instance timeout) finds another took
   * the event over, and its answer is dropped instead of sent twice. Null when dropped; else
   * what `write` returned (what the outbox is to be kicked with).
   */
  private async commitAnswer(key: string, write: (t: StoreTx) => Promise<Queued | undefined>): Promise<{ queued?: Queued } | null> {
    const done = await this.o.commit(async (t) => {
      if (!(await this.claim(t, key))) return null;
      return { queued: await write(t) };
    });
    if (!done) this.o.log.warn(`${key} was taken over by another instance while this one answered it: this answer is dropped`, { event: key });
    return done;
  }

  private async answer(key: string, recorded?: InboundEvent): Promise<void> {
    const { store, clock } = this.o;
    const now = clock.now();
    // Recorded with our lease and most of it left: ours, no claim (no write, no read). Else
    // (a long wait for a slot, found after a restart) claimed, which renews a lease of ours.
    let row = recorded && now - recorded.receivedAt < LEASE_SLACK_MS / 2 ? recorded : null;
    if (!row) {
      if (!(await this.o.commit((t) => this.claim(t, key)))) return;
      row = await store.events.get(key);
      if (row?.status !== "received") return;
    }
    switch (row.kind) {
      case "dm":
      case "mention":
        return this.answerMessage(row);
      case "slash":
        return handleSlashCommand(row, {
          ...this.o,
          answerWithAgent: (r, text, to) => this.answerMessage(r, text, to),
        });
      case "action":
        return this.decide(row);
      default:
        await store.events.setStatus(key, "ignored", now);
    }
  }

  /** A DM, a mention or a /claw question gets the sign of life; notices and subcommands answer at once. */
  private async showSign(key: string, recorded?: InboundEvent): Promise<void> {
    const { signs, store } = this.o;
    if (!signs) return;
    try {
      const row = recorded ?? (await store.events.get(key));
      if (row?.status !== "received" || !row.channel || row.detail === "paused") return;
      let target: SignTarget;
      if (row.kind === "dm" || row.kind === "mention") {
        if (!stripMention(row.text ?? "", this.o.botUserId())) return;
        target = { eventKey: key, channel: row.channel, ts: row.ts ?? undefined, threadTs: row.threadTs ?? undefined };
      } else if (row.kind === "slash" && isAgentQuestion(row.text ?? "")) {
        const responseUrl = (JSON.parse(row.payload) as { response_url?: string }).response_url;
        target = { eventKey: key, channel: row.channel, responseUrl };
      } else return;
      // A fresh event's record read the kill switch a moment ago (its detail says); one read back is asked again.
      if (!recorded && (await store.settings.isPaused())) return;
      signs.show(target);
    } catch (err) {
      this.o.log.warn(`sign of life for ${key} skipped: ${String(err)}`);
    }
  }

  private async decide(row: InboundEvent): Promise<void> {
    const p = JSON.parse(row.payload) as {
      actions?: { action_id?: string; value?: string }[];
      container?: { message_ts?: string; channel_id?: string };
      message?: { ts?: string; blocks?: unknown[] };
    };
    const action = p.actions?.[0];
    const then = await this.o.store.tx(async (t) => {
      const after = await this.o.approvals.decide(t, {
        approvalId: action?.value ?? "",
        user: row.user ?? "",
        approve: action?.action_id === "approval_approve",
        channel: p.container?.channel_id ?? row.channel ?? "",
        messageTs: p.container?.message_ts ?? p.message?.ts,
        messageBlocks: p.message?.blocks,
        eventKey: row.key,
      });
      await t.events.setStatus(row.key, "answered", this.o.clock.now());
      return after;
    });
    this.o.kick();
    then?.();
  }

  /**
   * A DM, a mention, or `/claw <text>`: the agent answers in the same conversation.
   * `textOverride`/`to` serve slash commands, whose text is not a message and whose answer
   * may have to go through the command's response_url.
   */
  async answerMessage(row: InboundEvent, textOverride?: string, to?: ReplyTo): Promise<void> {
    const { store, clock, log, agent, relay } = this.o;
    const channel = row.channel ?? "";
    const user = row.user ?? "";
    const where: ReplyTo = to ?? { channel, threadTs: row.threadTs ?? undefined };
    const threadTs = where.threadTs;
    const text = textOverride ?? unescapeSlack(stripMention(row.text ?? "", this.o.botUserId()));
    // The message the answer grows in while the agent streams, or the one a crash left for it.
    // Not where the bot cannot post: that answer goes through the command's response_url.
    const live = this.o.openLive && !where.respond ? await this.o.openLive(liveTarget(row, channel, threadTs)) : undefined;
    /** Queues the event's reply inside `t`: into its live message if it has one, else posted. */
    const queueAnswer = (t: StoreTx, r: Reply, into: LiveMessage | null): Promise<number[]> =>
      into?.ts ? queueReplyInto(t, r, into.ts, clock.now()) : queueReply(t, r, clock.now());
    const forgetLive = async (t: StoreTx) => {
      if (live?.recorded) await t.live.remove(row.key);
    };
    // Notices and errors answer each message: the same words twice are still two answers.
    const reply = async (replyText: string, detail: string) => {
      const into = (await live?.close()) ?? null;
      const done = await this.commitAnswer(row.key, async (t) => {
        const ids = await queueAnswer(t, { eventKey: row.key, ...where, text: replyText, noDedupe: true }, into);
        await forgetLive(t);
        await t.events.setStatus(row.key, "answered", clock.now(), detail);
        return this.o.claimInto(t, { channel: where.channel, ids });
      });
      if (!done) return;
      relay?.log({ direction: "out", event_id: row.key, channel, ts: null, thread_ts: threadTs, user: null, text: replyText });
      this.o.kick(done.queued);
    };

    relay?.log({ direction: "in", event_id: row.key, channel, ts: row.ts, thread_ts: threadTs, user, text });
    if (row.detail === "paused" || (await store.settings.isPaused())) return reply(PAUSED_NOTICE, "paused");
    // Most messages carry no files: their payload is not parsed again to find none.
    const attached = row.payload.includes('"files"') ? messageFiles(row.payload) : [];
    if (!text && attached.length === 0) return reply("Say something after the mention and I'll answer.", "empty");

    // The thread (or the relay) may hold what someone pasted: the agent gets it redacted, as it gets the message.
    const context = (await this.o.context({ kind: row.kind, channel, ts: row.ts ?? undefined, threadTs: row.threadTs ?? undefined, user, text })).map(
      (m) => ({ ...m, text: this.o.redact(m.text) }),
    );

    const { files, unread } = attached.length ? await this.o.readFiles(attached) : { files: [], unread: [] };

    const started = clock.mono();
    let answer: Awaited<ReturnType<Agent["answer"]>>;
    try {
      answer = await agent.answer({ text, user, channel, threadTs, context, files }, AbortSignal.timeout(this.o.agentTimeoutMs), live && ((d) => live.delta(d)));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      // An agent's error may quote its stderr (a key, a token, a `<!channel>`): redacted, then shown as text.
      const why = this.o.redact((err as Error)?.name === "TimeoutError" ? `timed out after ${Math.round(this.o.agentTimeoutMs / 1000)} s` : msg);
      log.error(`agent failed on ${row.key}: ${why}`, { event: row.key });
      this.o.signs?.failed(row.key);
      return reply(`:warning: Sorry, I couldn't get an answer (${escapeSlack(why.slice(0, 200))}). Please try again.`, "agent_error");
    }
    if (answer.usage) {
      await store.usage.record({ ...answer.usage, latencyMs: clock.mono() - started, eventKey: row.key }, clock.now());
    }
    const into = (await live?.close()) ?? null;
    const body = answer.reply.trim() || (answer.jobs.length ? "" : "(the agent gave an empty answer)");
    // The answer says which files the agent did not get (our words, after the agent's).
    const note = unreadNote(unread);
    // A live message is finished whatever the answer: with only cards, it points at them.
    const posted = [body && formatAnswer(body), note].filter(Boolean).join("\n\n") || (into ? "(approval needed: see the card)" : "");
    // Where cards go is Slack's to say (membership): asked before the transaction.
    const route = answer.jobs.length ? await this.o.approvals.route({ channel, threadTs }, user) : undefined;
    const done = await this.commitAnswer(row.key, async (t) => {
      const ids = posted ? await queueAnswer(t, { eventKey: row.key, ...where, text: posted }, into) : [];
      await forgetLive(t);
      if (route) for (const job of answer.jobs) await this.o.approvals.request(t, job, { requestedBy: user, eventKey: row.key, route, tell: where });
      await t.events.setStatus(row.key, "answered", clock.now());
      // Cards may go elsewhere (an approval channel, approvers' DMs): the sender reads those.
      return answer.jobs.length ? undefined : this.o.claimInto(t, { channel: where.channel, ids });
    });
    if (!done) return;
    if (body) relay?.log({ direction: "out", event_id: row.key, channel, ts: null, thread_ts: threadTs, user: null, text: body });
    // Only cards: they say the rest (the sign of a message is cleared when its reply is sent).
    if (!posted) this.o.signs?.answered(row.key);
    this.o.kick(done.queued);
  }
}

/** Where an answer would grow: the conversation, its thread, and who asked (a stream outside a DM is for them). */
function liveTarget(row: InboundEvent, channel: string, threadTs: string | undefined): LiveTarget {
  const isIm = row.kind === "dm";
  // A DM's stream needs no recipient: its payload is not parsed again for one (a burst's DMs).
  const p = isIm ? {} : (JSON.parse(row.payload) as { team_id?: string; event?: { team?: string } });
  const team = p.team_id ?? p.event?.team;
  return {
    eventKey: row.key,
    channel,
    threadTs,
    isIm,
    ...(row.user ? { recipientUserId: row.user } : {}),
    ...(team ? { recipientTeamId: team } : {}),
  };
}
