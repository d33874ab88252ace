// Sends the outbox. One message at a time per channel (order within a conversation),
// channels in parallel; a rate limit holds only its own channel, for exactly Retry-After.
// A post whose outcome is unknown is looked up by its outbox id before it is sent again.
import { backoffDelay } from "./backoff.ts";
import type { Clock, Timer } from "./clock.ts";
import { type Commit, groupCommit } from "./group-commit.ts";
import type { Logger } from "./logger.ts";
import { CARD_KEY_PREFIX } from "./approvals.ts";
import { type HistoryMessage, OUTBOX_EVENT_TYPE, SlackCallError, type SendFailure, type SlackPort } from "./slack-port.ts";
import type { OutboxItem, Store, StoreTx } from "./store.ts";
import { outputParts, renderOutput } from "./text.ts";
import { settleWithin } from "./wait.ts";

export interface OutboxSenderOptions {
  store: Store;
  /** Claims and sent marks commit with the other writes of their event-loop turn (the runtime's group commit; else one of its own). */
  commit?: Commit;
  slack: SlackPort;
  clock: Clock;
  log: Logger;
  owner: string;
  /** First retry delay after a transient error; doubles up to retryMaxMs. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** How long a claimed item is ours; longer than any single Slack call. */
  leaseMs: number;
  /** Called after an item reached Slack (cards record their ts). */
  onSent?: (row: OutboxItem, ts: string | null) => void | Promise<void>;
  onRevoked?: (reason: string) => void;
}

/** How far back to look for an uncertain post (Slack ts are seconds). */
const LOOKUP_SLACK_S = 120;
/** How many messages to look through for it (a busy channel after a long outage). */
const LOOKUP_LIMIT = 2000;
/** chat.update's answers for a message that is no longer there to edit (docs.slack.dev/reference/methods/chat.update). */
const LIVE_GONE = new Set(["message_not_found", "cant_update_message", "edit_window_closed"]);
/** A refused upload sent as messages: at most this much (≈ 540 messages), with a note. */
const MAX_SPLIT_CHARS = 2_000_000;
/** Due items read from the store at once. */
const SCAN_LIMIT = 500;

/** Items just committed to the outbox, all for one channel, oldest first. */
export interface Queued {
  channel: string;
  ids: number[];
  /** The first of them, already claimed for this sender in the transaction that queued it (claimInto). */
  claimed?: OutboxItem;
}
/** Slack refusing a message for its size: the same message is refused again, however often it is sent. */
const TOO_BIG = new Set(["invalid_blocks", "msg_too_long", "msg_blocks_too_long"]);
/** A post refused because the bot is not in the conversation: a /claw's answer then goes through its response_url. */
const CANNOT_POST = new Set(["not_in_channel", "channel_not_found"]);
/** The event key of a notice about a refused item (never itself noticed again). */
const NOTICE_KEY = "notice:";

export class OutboxSender {
  sent = 0;
  failed = 0;
  /** Set when Slack said the token is no good: replay stops waiting then. */
  revoked: string | null = null;
  private readonly busy = new Set<string>();
  private readonly blockedUntil = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: Timer | null = null;
  private timerAt = Infinity;
  private stopped = false;
  /** A pump reading the store: one at a time; a kick meanwhile asks for another after it. */
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  /**
   * Items known to be due, per channel, oldest first: handed over as they are queued, or found
   * by reading the store. Each channel sends its next one when its last one is done, so a burst
   * is sent without reading the outbox again after every message.
   */
  private readonly ready = new Map<string, number[]>();
  private readonly readyIds = new Set<number>();
  /** The last read found SCAN_LIMIT due items: there may be more than the ready queues hold. */
  private scanFull = false;
  /** Ready items claimed for us in the transaction that queued them (claimInto), until they are sent. */
  private readonly claimed = new Map<number, OutboxItem>();

  private readonly commit: Commit;

  constructor(private readonly o: OutboxSenderOptions) {
    this.commit = o.commit ?? groupCommit(o.store);
  }

  /**
   * Something was queued or became due. With `queued` (what an answer just committed) those
   * items are sent as their channel is free, without reading the store for them; without it,
   * the store is read for what is due.
   */
  kick(queued?: Queued): void {
    if (!queued) return this.wakeAt(this.o.clock.now());
    if (queued.claimed) this.claimed.set(queued.claimed.id, queued.claimed);
    for (const id of queued.ids) this.addReady(queued.channel, id);
    this.startNext(queued.channel);
  }

  /**
   * Inside the transaction that queues these items: if their channel is free, the first is
   * claimed for this sender there and then, so the claim commits with the answer instead of
   * in a transaction of its own. Hand what it returns to kick() once that transaction committed.
   */
  async claimInto(t: StoreTx, queued: Queued): Promise<Queued> {
    const first = queued.ids[0];
    const now = this.o.clock.now();
    const free = !this.stopped && !this.busy.has(queued.channel) && !this.ready.has(queued.channel) && (this.blockedUntil.get(queued.channel) ?? 0) <= now;
    if (first === undefined || !free) return queued;
    const claimed = await t.outbox.claim(first, this.o.owner, now, now + this.o.leaseMs);
    return claimed ? { ...queued, claimed } : queued;
  }

  /**
   * Graceful stop: sends what is due (not what waits out a rate limit or a backoff) for up
   * to `timeoutMs`, then stops. Whatever is left stays in the outbox for the next start.
   */
  async stop(timeoutMs: number): Promise<void> {
    const { clock } = this.o;
    const deadline = clock.mono() + timeoutMs;
    while (!this.stopped && clock.mono() < deadline) {
      try {
        await this.pump();
      } catch (err) {
        this.o.log.error(`outbox: cannot read the store while stopping: ${String(err)}`);
        break;
      }
      if (this.inFlight.size === 0) break;
      await settleWithin([Promise.race(this.inFlight)], deadline - clock.mono());
    }
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    await settleWithin(this.inFlight, deadline - clock.mono());
  }

  /** Waits until nothing is in flight (tests, replay). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Replay: sends these items now, outside the timer loop, waiting out rate limits and
   * retries until each is sent or failed or `deadline` passes. An item another process
   * holds (the running bot) is left to it and waited for. Returns the ids not delivered.
   * `deadline` is a clock.mono() reading.
   */
  async deliverNow(ids: number[], deadline: number): Promise<number[]> {
    const { store, clock } = this.o;
    let open = ids;
    for (;;) {
      const now = clock.now();
      const rows = (await Promise.all(open.map((id) => store.outbox.get(id)))).filter((r): r is OutboxItem => r !== null);
      open = rows.filter((r) => r.status === "pending" || r.status === "sending").map((r) => r.id);
      if (open.length === 0 || clock.mono() >= deadline || this.revoked) break;
      const due = rows.filter((r) => r.status === "pending" && r.nextAttemptAt <= now && (this.blockedUntil.get(r.channel) ?? 0) <= now);
      // One at a time per channel (order), channels in parallel.
      const byChannel = Map.groupBy(due, (r) => r.channel);
      await Promise.all([...byChannel.values()].map(async (list) => { for (const r of list) await this.send(r.id); }));
      if (due.length === 0) await new Promise((r) => setTimeout(r, Math.min(200, Math.max(10, this.nextWait(rows, now)))));
    }
    const left: number[] = [];
    for (const id of ids) {
      const status = (await store.outbox.get(id))?.status;
      if (status !== "sent" && status !== "suppressed") left.push(id);
    }
    return left;
  }

  private nextWait(rows: OutboxItem[], now: number): number {
    let at = Infinity;
    for (const r of rows) at = Math.min(at, r.status === "pending" ? Math.max(r.nextAttemptAt, this.blockedUntil.get(r.channel) ?? 0) : (r.leaseUntil ?? now));
    return at - now;
  }

  /**
   * Wakes the pump at wall time `at`. Due times are the store's (an item's next attempt, a
   * lease's end): wall-clock, because they outlive this process and other processes share
   * them. A wall clock set back holds them longer; nothing is lost.
   */
  private wakeAt(at: number): void {
    if (this.stopped) return;
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.o.clock.setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Infinity;
        this.pump().catch((err) => {
          this.o.log.error(`outbox: cannot read the store: ${String(err)}`);
          this.wakeAt(this.o.clock.now() + 1000);
        });
      },
      Math.max(0, at - this.o.clock.now()),
    );
  }

  /** Reads what is due and starts sending it; a pump already reading runs once more after, instead of twice at once. */
  private pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return this.pumping;
    }
    const run = async () => {
      try {
        do {
          this.pumpAgain = false;
          await this.pumpOnce();
        } while (this.pumpAgain && !this.stopped);
      } finally {
        this.pumping = null;
      }
    };
    this.pumping = run();
    return this.pumping;
  }

  private async pumpOnce(): Promise<void> {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const due = await this.o.store.outbox.due(now, SCAN_LIMIT);
    this.scanFull = due.length === SCAN_LIMIT;
    for (const row of due) this.addReady(row.channel, row.id);
    for (const [ch, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(ch);
    for (const ch of [...this.ready.keys()]) this.startNext(ch);
    // What is due now is in the ready queues; the timer is for what becomes due later (a
    // backoff, a lapsed lease) and for channels waiting out a rate limit (startNext).
    const next = await this.o.store.outbox.nextDueAt();
    if (next !== null && next > now) this.wakeAt(next);
  }

  private addReady(channel: string, id: number): void {
    if (this.readyIds.has(id)) return;
    this.readyIds.add(id);
    const q = this.ready.get(channel);
    if (!q) {
      this.ready.set(channel, [id]);
      return;
    }
    // In id order: a read of the store may find an older item after newer ones were handed over.
    let i = q.length;
    while (i > 0 && (q[i - 1] as number) > id) i--;
    q.splice(i, 0, id);
  }

  /** Sends the channel's next ready item, unless one of its messages is on its way or it waits out a rate limit. */
  private startNext(channel: string): void {
    if (this.stopped || this.busy.has(channel)) return;
    const until = this.blockedUntil.get(channel) ?? 0;
    if (until > this.o.clock.now()) return this.wakeAt(until);
    const q = this.ready.get(channel);
    const id = q?.shift();
    if (!q?.length) this.ready.delete(channel);
    if (id === undefined) {
      if (this.scanFull && this.ready.size === 0) this.kick();
      return;
    }
    this.readyIds.delete(id);
    this.busy.add(channel);
    const claimed = this.claimed.get(id);
    this.claimed.delete(id);
    // The channel's next message may go as soon as this one is in Slack, before its sent mark commits.
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.busy.delete(channel);
      this.startNext(channel);
    };
    const p = this.send(id, claimed, release)
      .catch((err) => this.o.log.error(`outbox: sending #${id} failed unexpectedly: ${String(err)}`))
      .finally(() => {
        this.inFlight.delete(p);
        release();
      });
    this.inFlight.add(p);
  }

  /** `delivered` is called once the item is in Slack (the channel is free for its next one). */
  private async send(id: number, claimed?: OutboxItem, delivered?: () => void): Promise<void> {
    const now = this.o.clock.now();
    // Claimed as it was queued: ours while most of that lease is left (else claimed as any other,
    // which fails while our own lease runs: the item is then taken up when it has run out).
    const row =
      claimed && (claimed.leaseUntil ?? 0) - now > this.o.leaseMs / 2
        ? claimed
        : await this.commit((t) => t.outbox.claim(id, this.o.owner, now, now + this.o.leaseMs));
    if (!row) return;
    try {
      // An earlier attempt (the claim counted this one) may have posted without us hearing back: look before posting again.
      if ((row.op === "post" || row.op === "upload") && row.attempts > 1) {
        const found = await this.findSent(row);
        if (found) {
          this.o.log.info(`outbox: #${row.id} was already in Slack (ts ${found}); not sending again`);
          delivered?.();
          return await this.done(row, found);
        }
      }
      const ts = await this.deliver(row);
      delivered?.();
      await this.done(row, ts);
    } catch (err) {
      await this.handleFailure(row, err instanceof SlackCallError ? err.failure : { kind: "unknown", message: String(err) });
    }
  }

  private async done(row: OutboxItem, ts: string | null): Promise<void> {
    const now = this.o.clock.now();
    // A post or upload is in Slack: its mark rides with the next writes (a crash before that
    // commits leaves it `sending`, and the next attempt finds it in the conversation instead of
    // posting again). The other ops are not looked up, so theirs commits at once.
    const commit = row.op === "post" || row.op === "upload" ? this.commit.later : this.commit;
    // What follows a delivery (a sign cleared, a card's ts kept) does not wait for the mark.
    const [mark] = await Promise.allSettled([commit((t) => t.outbox.markSent(row.id, ts, now)), this.afterSent(row, ts)]);
    if (mark.status === "rejected") throw mark.reason;
    this.sent++;
  }

  private async afterSent(row: OutboxItem, ts: string | null): Promise<void> {
    try {
      await this.o.onSent?.(row, ts);
    } catch (err) {
      // The message is in Slack: a failing follow-up must not send it again.
      this.o.log.error(`outbox: after sending #${row.id}: ${String(err)}`);
    }
  }

  private async deliver(row: OutboxItem): Promise<string | null> {
    const blocks = row.blocks ? (JSON.parse(row.blocks) as unknown[]) : undefined;
    const { slack } = this.o;
    switch (row.op) {
      case "post":
        return (await slack.post({ channel: row.channel, threadTs: row.threadTs ?? undefined, text: row.text, blocks, outboxId: row.id })).ts;
      case "ephemeral":
        await slack.postEphemeral({
          channel: row.channel,
          user: row.user ?? "",
          threadTs: row.threadTs ?? undefined,
          text: row.text,
          blocks,
        });
        return null;
      case "update":
        // An answer finished in its live message carries the reply metadata, as a post does.
        await slack.update({ channel: row.channel, ts: row.targetTs ?? "", text: row.text, blocks, ...(row.eventKey ? { outboxId: row.id } : {}) });
        return row.targetTs;
      case "respond":
        await slack.respond(row.responseUrl ?? "", { text: row.text, blocks, response_type: "ephemeral" });
        return null;
      case "upload":
        await slack.upload({
          channel: row.channel,
          threadTs: row.threadTs ?? undefined,
          filename: row.fileName ?? `clawdbot-${row.id}.txt`,
          title: row.fileTitle ?? undefined,
          content: row.content ?? (await this.o.store.outbox.content(row.id)) ?? "",
          initialComment: row.text || undefined,
        });
        return null;
    }
  }

  /**
   * Slack refused the file for good (no files:write scope, uploads disabled): the content
   * goes as numbered messages instead, so nothing is lost because of how it was to be sent.
   */
  private async uploadAsMessages(row: OutboxItem, why: string): Promise<void> {
    const { store, clock, log } = this.o;
    const now = clock.now();
    const content = row.content ?? (await store.outbox.content(row.id)) ?? "";
    const shown = content.length > MAX_SPLIT_CHARS ? content.slice(0, MAX_SPLIT_CHARS) : content;
    const parts = outputParts(shown);
    const label = row.fileTitle ?? row.fileName ?? `File ${row.id}`;
    const base = { eventKey: row.eventKey ?? undefined, op: "post" as const, channel: row.channel, threadTs: row.threadTs ?? undefined };
    await store.tx(async (t) => {
      for (const [i, p] of parts.entries()) {
        const text = `${label}, part ${i + 1}/${parts.length}:\n\`\`\`\n${renderOutput(p)}\n\`\`\``;
        await t.outbox.enqueue({ ...base, text }, now);
      }
      if (shown.length < content.length) {
        await t.outbox.enqueue({ ...base, text: `${label} was ${content.length} characters; the first ${shown.length} are above.` }, now);
      }
      await t.outbox.markReplaced(row.id, `upload refused (${why}); sent as ${parts.length} messages`, now);
    });
    log.warn(`outbox: upload #${row.id} refused (${why}); its ${content.length} characters go as ${parts.length} messages instead`);
    this.kick();
  }

  /** An answer's live message is gone (deleted meanwhile): the answer is posted instead of lost. */
  private async postInstead(row: OutboxItem, why: string): Promise<void> {
    const { store, clock, log } = this.o;
    const now = clock.now();
    await store.tx(async (t) => {
      await t.outbox.enqueue({ eventKey: row.eventKey ?? undefined, op: "post", channel: row.channel, threadTs: row.threadTs ?? undefined, text: row.text }, now);
      await t.outbox.markReplaced(row.id, `live message gone (${why}); posted instead`, now);
    });
    log.warn(`outbox: #${row.id}: the answer's message is gone (${why}); posting it instead`);
    this.kick();
  }

  /** A /claw answered where the bot is not a member: through the command's response_url, seen by the one who typed it. */
  private async respondInstead(row: OutboxItem, why: string): Promise<void> {
    try {
      await this.o.slack.respond(row.responseUrl ?? "", { text: row.text, blocks: row.blocks ? (JSON.parse(row.blocks) as unknown[]) : undefined, response_type: "ephemeral" });
    } catch (err) {
      return this.handleFailure({ ...row, op: "respond" }, err instanceof SlackCallError ? err.failure : { kind: "unknown", message: String(err) });
    }
    this.o.log.info(`outbox: #${row.id}: clawdbot cannot post in ${row.channel} (${why}); answered through the command's response_url`);
    await this.done(row, null);
  }

  /** Slack refused an item as too big: the conversation gets a short line instead of silence. */
  private async tooBigNotice(row: OutboxItem, code: string): Promise<void> {
    if (row.eventKey?.startsWith(NOTICE_KEY) || row.op === "upload") return;
    const card = row.eventKey?.startsWith(CARD_KEY_PREFIX) ? ` (the card of approval ${row.eventKey.slice(CARD_KEY_PREFIX.length)})` : "";
    const what = row.op === "update" ? `an update of a message of mine${card}` : `a message of mine${card}`;
    const text = `:warning: Slack refused ${what} as too large (\`${code}\`), so it is not shown. An admin finds it as failed outbox item #${row.id}.`;
    const to = row.op === "respond" ? { op: "respond" as const, responseUrl: row.responseUrl ?? undefined } : row.op === "ephemeral" ? { op: "ephemeral" as const, user: row.user ?? undefined } : { op: "post" as const };
    await this.o.store.outbox.enqueue({ eventKey: `${NOTICE_KEY}${row.id}`, channel: row.channel, threadTs: row.threadTs ?? undefined, text, ...to }, this.o.clock.now());
    this.kick();
  }

  /**
   * Looks for an item an earlier attempt may have delivered without us hearing back: a post
   * by the outbox id in its metadata, an upload by its file name (unique per item).
   */
  private async findSent(row: OutboxItem): Promise<string | null> {
    const oldest = (Math.floor(row.createdAt / 1000) - LOOKUP_SLACK_S).toString();
    const msgs = row.threadTs
      ? await this.o.slack.replies(row.channel, row.threadTs, LOOKUP_LIMIT)
      : await this.o.slack.history(row.channel, oldest, LOOKUP_LIMIT);
    const fileName = row.fileName ?? `clawdbot-${row.id}.txt`;
    const isIt =
      row.op === "upload"
        ? (m: HistoryMessage) => m.files?.some((f) => f.name === fileName) ?? false
        : (m: HistoryMessage) => m.metadata?.event_type === OUTBOX_EVENT_TYPE && Number(m.metadata.event_payload?.outbox_id) === row.id;
    return msgs.find(isIt)?.ts ?? null;
  }

  private async handleFailure(row: OutboxItem, f: SendFailure): Promise<void> {
    const { store, clock, log } = this.o;
    const now = clock.now();
    const attempts = row.attempts;
    switch (f.kind) {
      case "ratelimited": {
        this.blockedUntil.set(row.channel, now + f.retryAfterMs);
        await store.outbox.retryAt(row.id, now + f.retryAfterMs, `ratelimited: ${f.message}`, now);
        this.wakeAt(now + f.retryAfterMs);
        log.warn(`outbox: rate limited in ${row.channel}; #${row.id} waits ${(f.retryAfterMs / 1000).toFixed(1)} s (Retry-After)`);
        return;
      }
      case "permanent":
        if (row.op === "upload") return this.uploadAsMessages(row, f.message);
        if (row.op === "update" && row.eventKey && LIVE_GONE.has(f.message)) return this.postInstead(row, f.message);
        if (row.op === "post" && row.responseUrl && CANNOT_POST.has(f.message)) return this.respondInstead(row, f.message);
        await store.outbox.markFailed(row.id, f.message, now);
        this.failed++;
        log.error(`outbox: #${row.id} to ${row.channel} failed for good: ${f.message}; fix it, then run clawdbot replay`);
        if (TOO_BIG.has(f.message)) await this.tooBigNotice(row, f.message);
        return;
      case "revoked":
        await store.outbox.retryAt(row.id, now + this.o.retryMaxMs, f.message, now);
        this.wakeAt(now + this.o.retryMaxMs);
        this.revoked = f.message;
        this.o.onRevoked?.(f.message);
        return;
      case "transient":
      case "unknown": {
        const delay = backoffDelay(attempts, { initialMs: this.o.retryInitialMs, maxMs: this.o.retryMaxMs });
        await store.outbox.retryAt(row.id, now + delay, `${f.kind}: ${f.message}`, now);
        this.wakeAt(now + delay);
        log.warn(`outbox: #${row.id} to ${row.channel} not sent (${f.message}); retry ${attempts} in ${(delay / 1000).toFixed(1)} s`);
      }
    }
  }
}
