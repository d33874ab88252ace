// Sends the outbox. One message at a time per channel (order within a conversation),
// channels in parallel; a rate limit holds only its own channel, for exactly Retry-After.
// A post whose outcome is unknown is looked up by its outbox id before it is sent again.
import type { Store } from "../store/index.ts";
import type { OutboxRow } from "../store/outbox.ts";
import { backoffDelay } from "./backoff.ts";
import type { Clock, Timer } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { settleWithin } from "./wait.ts";
import { outputParts, renderOutput } from "./text.ts";
import { type HistoryMessage, OUTBOX_EVENT_TYPE, SlackCallError, type SendFailure, type SlackPort } from "./slack-port.ts";

export interface OutboxSenderOptions {
  store: Store;
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
  onSent?: (row: OutboxRow, ts: string | null) => void;
  onRevoked?: (reason: string) => void;
}

/** How far back to look for an uncertain post (Slack ts are seconds). */
const LOOKUP_SLACK_S = 120;
/** How many messages to look through for it (a busy channel after a long outage). */
const LOOKUP_LIMIT = 2000;
/** A refused upload sent as messages: at most this much (≈ 540 messages), with a note. */
const MAX_SPLIT_CHARS = 2_000_000;

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

  constructor(private readonly o: OutboxSenderOptions) {}

  /** Something was queued or became due: look at the outbox soon. */
  kick(): void {
    this.wakeAt(this.o.clock.now());
  }

  /**
   * Graceful stop: sends what is due (not what waits out a rate limit or a backoff) for up
   * to `timeoutMs`, then stops. Whatever is left stays in the outbox for the next start.
   */
  async stop(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stopped && Date.now() < deadline) {
      try {
        this.pump();
      } catch (err) {
        this.o.log.error(`outbox: cannot read the store while stopping: ${String(err)}`);
        break;
      }
      if (this.inFlight.size === 0) break;
      await settleWithin([Promise.race(this.inFlight)], deadline - Date.now());
    }
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    await settleWithin(this.inFlight, deadline - Date.now());
  }

  /** Waits until nothing is in flight (tests, replay). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Replay: sends these items now, outside the timer loop, waiting out rate limits and
   * retries until each is sent or failed or `deadline` passes. An item another process
   * holds (the running bot) is left to it and waited for. Returns the ids not delivered.
   */
  async deliverNow(ids: number[], deadline: number): Promise<number[]> {
    const { store, clock } = this.o;
    let open = ids;
    for (;;) {
      const now = clock.now();
      const rows = open.map((id) => store.outbox.get(id)).filter((r): r is OutboxRow => r !== null);
      open = rows.filter((r) => r.status === "pending" || r.status === "sending").map((r) => r.id);
      if (open.length === 0 || now >= deadline || this.revoked) break;
      const due = rows.filter((r) => r.status === "pending" && r.next_attempt_at <= now && (this.blockedUntil.get(r.channel) ?? 0) <= now);
      // One at a time per channel (order), channels in parallel.
      const byChannel = Map.groupBy(due, (r) => r.channel);
      await Promise.all([...byChannel.values()].map(async (list) => { for (const r of list) await this.send(r); }));
      if (due.length === 0) await new Promise((r) => setTimeout(r, Math.min(200, Math.max(10, this.nextWait(rows, now)))));
    }
    return ids.filter((id) => store.outbox.get(id)?.status !== "sent" && store.outbox.get(id)?.status !== "suppressed");
  }

  private nextWait(rows: OutboxRow[], now: number): number {
    let at = Infinity;
    for (const r of rows) at = Math.min(at, r.status === "pending" ? Math.max(r.next_attempt_at, this.blockedUntil.get(r.channel) ?? 0) : (r.lease_until ?? now));
    return at - now;
  }

  private wakeAt(at: number): void {
    if (this.stopped) return;
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.o.clock.setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Infinity;
        try {
          this.pump();
        } catch (err) {
          this.o.log.error(`outbox: cannot read the store: ${String(err)}`);
          this.wakeAt(this.o.clock.now() + 1000);
        }
      },
      Math.max(0, at - this.o.clock.now()),
    );
  }

  private pump(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    for (const row of this.o.store.outbox.due(now, 500)) {
      const key = row.channel;
      if (this.busy.has(key)) continue;
      const blocked = this.blockedUntil.get(key) ?? 0;
      if (blocked > now) continue;
      this.busy.add(key);
      const p = this.send(row)
        .catch((err) => this.o.log.error(`outbox: sending #${row.id} failed unexpectedly: ${String(err)}`))
        .finally(() => {
          this.busy.delete(key);
          this.inFlight.delete(p);
          this.kick();
        });
      this.inFlight.add(p);
    }
    const next = this.o.store.outbox.nextDueAt();
    // A rate-limited channel's items are due at their Retry-After already (retryAt), so
    // nextDueAt covers them: the map only needs forgetting what has passed.
    for (const [ch, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(ch);
    if (next !== null) this.wakeAt(Math.max(next, now + 1));
  }

  private async send(row: OutboxRow): Promise<void> {
    const { store, clock } = this.o;
    const now = clock.now();
    if (!store.outbox.claim(row.id, this.o.owner, now, now + this.o.leaseMs)) return;
    try {
      // An earlier attempt may have posted without us hearing back: look before posting again.
      if ((row.op === "post" || row.op === "upload") && row.attempts > 0) {
        const found = await this.findSent(row);
        if (found) {
          this.o.log.info(`outbox: #${row.id} was already in Slack (ts ${found}); not sending again`);
          return this.done(row, found);
        }
      }
      const ts = await this.deliver(row);
      this.done(row, ts);
    } catch (err) {
      this.handleFailure(row, err instanceof SlackCallError ? err.failure : { kind: "unknown", message: String(err) });
    }
  }

  private done(row: OutboxRow, ts: string | null): void {
    this.o.store.outbox.markSent(row.id, ts, this.o.clock.now());
    this.sent++;
    try {
      this.o.onSent?.(row, ts);
    } catch (err) {
      // The message is in Slack and marked sent: a failing follow-up must not send it again.
      this.o.log.error(`outbox: after sending #${row.id}: ${String(err)}`);
    }
  }

  private async deliver(row: OutboxRow): Promise<string | null> {
    const blocks = row.blocks ? (JSON.parse(row.blocks) as unknown[]) : undefined;
    const { slack } = this.o;
    switch (row.op) {
      case "post":
        return (await slack.post({ channel: row.channel, threadTs: row.thread_ts ?? undefined, text: row.text, blocks, outboxId: row.id })).ts;
      case "ephemeral":
        await slack.postEphemeral({
          channel: row.channel,
          user: row.user ?? "",
          threadTs: row.thread_ts ?? undefined,
          text: row.text,
          blocks,
        });
        return null;
      case "update":
        await slack.update({ channel: row.channel, ts: row.target_ts ?? "", text: row.text, blocks });
        return row.target_ts;
      case "respond":
        await slack.respond(row.response_url ?? "", { text: row.text, blocks, response_type: "ephemeral" });
        return null;
      case "upload":
        await slack.upload({
          channel: row.channel,
          threadTs: row.thread_ts ?? undefined,
          filename: row.file_name ?? `clawdbot-${row.id}.txt`,
          title: row.file_title ?? undefined,
          content: row.content ?? this.o.store.outbox.content(row.id) ?? "",
          initialComment: row.text || undefined,
        });
        return null;
    }
  }

  /**
   * Slack refused the file for good (no files:write scope, uploads disabled): the content
   * goes as numbered messages instead, so nothing is lost because of how it was to be sent.
   */
  private uploadAsMessages(row: OutboxRow, why: string): void {
    const { store, clock, log } = this.o;
    const now = clock.now();
    const content = row.content ?? store.outbox.content(row.id) ?? "";
    const shown = content.length > MAX_SPLIT_CHARS ? content.slice(0, MAX_SPLIT_CHARS) : content;
    const parts = outputParts(shown);
    const label = row.file_title ?? row.file_name ?? `File ${row.id}`;
    const base = { eventKey: row.event_key ?? undefined, op: "post" as const, channel: row.channel, threadTs: row.thread_ts ?? undefined };
    store.tx(() => {
      parts.forEach((p, i) => {
        const text = `${label}, part ${i + 1}/${parts.length}:\n\`\`\`\n${renderOutput(p)}\n\`\`\``;
        store.outbox.enqueue({ ...base, text }, now);
      });
      if (shown.length < content.length) {
        store.outbox.enqueue({ ...base, text: `${label} was ${content.length} characters; the first ${shown.length} are above.` }, now);
      }
      store.outbox.markReplaced(row.id, `upload refused (${why}); sent as ${parts.length} messages`, now);
    });
    log.warn(`outbox: upload #${row.id} refused (${why}); its ${content.length} characters go as ${parts.length} messages instead`);
    this.kick();
  }

  /**
   * Looks for an item an earlier attempt may have delivered without us hearing back: a post
   * by the outbox id in its metadata, an upload by its file name (unique per item).
   */
  private async findSent(row: OutboxRow): Promise<string | null> {
    const oldest = (Math.floor(row.created_at / 1000) - LOOKUP_SLACK_S).toString();
    const msgs = row.thread_ts
      ? await this.o.slack.replies(row.channel, row.thread_ts, LOOKUP_LIMIT)
      : await this.o.slack.history(row.channel, oldest, LOOKUP_LIMIT);
    const fileName = row.file_name ?? `clawdbot-${row.id}.txt`;
    const isIt =
      row.op === "upload"
        ? (m: HistoryMessage) => m.files?.some((f) => f.name === fileName) ?? false
        : (m: HistoryMessage) => m.metadata?.event_type === OUTBOX_EVENT_TYPE && Number(m.metadata.event_payload?.outbox_id) === row.id;
    return msgs.find(isIt)?.ts ?? null;
  }

  private handleFailure(row: OutboxRow, f: SendFailure): void {
    const { store, clock, log } = this.o;
    const now = clock.now();
    const attempts = row.attempts + 1;
    switch (f.kind) {
      case "ratelimited": {
        this.blockedUntil.set(row.channel, now + f.retryAfterMs);
        store.outbox.retryAt(row.id, now + f.retryAfterMs, `ratelimited: ${f.message}`, now);
        log.warn(`outbox: rate limited in ${row.channel}; #${row.id} waits ${(f.retryAfterMs / 1000).toFixed(1)} s (Retry-After)`);
        return;
      }
      case "permanent":
        if (row.op === "upload") return this.uploadAsMessages(row, f.message);
        store.outbox.markFailed(row.id, f.message, now);
        this.failed++;
        log.error(`outbox: #${row.id} to ${row.channel} failed for good: ${f.message}; fix it, then run clawdbot replay`);
        return;
      case "revoked":
        store.outbox.retryAt(row.id, now + this.o.retryMaxMs, f.message, now);
        this.revoked = f.message;
        this.o.onRevoked?.(f.message);
        return;
      case "transient":
      case "unknown": {
        const delay = backoffDelay(attempts, { initialMs: this.o.retryInitialMs, maxMs: this.o.retryMaxMs });
        store.outbox.retryAt(row.id, now + delay, `${f.kind}: ${f.message}`, now);
        log.warn(`outbox: #${row.id} to ${row.channel} not sent (${f.message}); retry ${attempts} in ${(delay / 1000).toFixed(1)} s`);
      }
    }
  }
}
