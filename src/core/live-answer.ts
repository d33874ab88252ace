// An answer shown while the agent produces it: one message that grows, at most one Slack call
// per interval, a rate limit waited out with nothing lost (what was not shown is shown by the
// next call). In a thread it is Slack's own stream (chat.startStream / appendStream; "Streamed
// messages should always be replies to a user request", docs.slack.dev/reference/methods/
// chat.startStream, and outside a DM they need the recipient); elsewhere (a top-level DM, a
// /claw answer in a channel) a message posted, then edited with chat.update.
//
// What it shows is a preview of the first message's worth. The answer itself goes through the
// outbox once the agent is done: an update of this message, escaped and split like any answer
// (queueReplyInto). The store knows the message until then, so after a crash the event is
// answered again into the same message instead of leaving a half answer that looks final.
import type { Clock, Timer } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { type HistoryMessage, OUTBOX_EVENT_TYPE, SlackCallError, type SendFailure, type SlackPort } from "./slack-port.ts";
import type { LiveMessage, LiveMode, Store } from "./store.ts";
import { escapeSlack, formatAnswer, PART_CHARS, splitText } from "./text.ts";

/** The preview covers the first message's worth; the rest of a long answer follows it when done. */
const PREVIEW_CHARS = PART_CHARS;
/** Raw characters per stream call: escaped (at most 5 times longer) it stays within markdown_text's 12,000. */
const STREAM_CALL_CHARS = 2400;
/** After this many failed calls in a row the preview stops; the answer comes as usual. */
const MAX_FAILURES = 3;
/** A preview edited in place ends with this, so it never looks like a finished answer. */
export const WRITING_MARK = " …";
/** What a message left half by a crash shows until the answer grows in it again. */
export const RESTARTED_NOTE = "_clawdbot restarted while answering this; answering again…_";

export interface LiveTarget {
  eventKey: string;
  channel: string;
  /** The thread the answer goes into; a stream needs one. */
  threadTs?: string;
  /** A DM with the bot: a stream there needs no recipient. */
  isIm: boolean;
  /** Who asked, and their team: a stream outside a DM is for them. */
  recipientUserId?: string;
  recipientTeamId?: string;
}

export interface LiveOptions {
  slack: SlackPort;
  store: Store;
  clock: Clock;
  log: Logger;
  /** At most one Slack call per this many ms per answer. */
  intervalMs: number;
  botUserId(): string | undefined;
  botId?(): string | undefined;
  /** The first text of the answer is visible in Slack. */
  onVisible?(eventKey: string): void;
}

export type OpenLive = (t: LiveTarget) => Promise<LiveAnswer>;

export class LiveAnswer {
  private msg: LiveMessage | null = null;
  private mode: LiveMode;
  private text = "";
  /** Raw characters of `text` Slack shows (a stream), or that the last edit showed. */
  private shown = 0;
  /** A message left by a crash: show the note at once. */
  private noteDue = false;
  private inFlight: Promise<void> | null = null;
  private timer: Timer | null = null;
  private nextAt = 0;
  private failures = 0;
  /** No more previews (closed, or Slack keeps refusing). */
  private done = false;
  /** A row was written (a start that failed leaves one; so does a crash's, taken over or not). */
  private wasRecorded = false;

  private constructor(
    private readonly o: LiveOptions,
    private readonly t: LiveTarget,
  ) {
    this.mode = t.threadTs && (t.isIm || (t.recipientUserId && t.recipientTeamId)) ? "stream" : "update";
  }

  /** Starts an answer's live message; one a crashed run left for this event is taken over. */
  static async open(o: LiveOptions, t: LiveTarget): Promise<LiveAnswer> {
    const live = new LiveAnswer(o, t);
    const earlier = await o.store.live.get(t.eventKey);
    if (earlier) {
      live.wasRecorded = true;
      await live.adopt(earlier);
    }
    return live;
  }

  /** Whether the store has a live message of this event (to forget with the answer). */
  get recorded(): boolean {
    return this.wasRecorded;
  }

  /** Text of the answer as it comes (the agent's onDelta). */
  delta(piece: string): void {
    if (this.done || !piece) return;
    this.text += piece;
    this.schedule();
  }

  /**
   * No more previews: waits for the call in flight. Returns the message the answer goes into,
   * or null when there is none (the answer is posted as usual).
   */
  async close(): Promise<LiveMessage | null> {
    this.done = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    return this.msg?.ts ? this.msg : null;
  }

  private async adopt(earlier: LiveMessage): Promise<void> {
    const ts = earlier.ts ?? (await this.findLost(earlier).catch(() => null));
    if (!ts) return;
    this.o.log.info(`answer for ${this.t.eventKey}: finishing the message a restart left half (ts ${ts})`, { event: this.t.eventKey });
    // Edited from now on: a stream cannot be emptied, and update() stops one still open.
    this.mode = "update";
    this.msg = { ...earlier, ts, mode: "update" };
    await this.o.store.live.put(this.msg);
    this.noteDue = true;
    this.schedule();
  }

  private hasNews(): boolean {
    return this.noteDue || this.shown < Math.min(this.text.length, PREVIEW_CHARS);
  }

  private schedule(): void {
    if (this.done || this.inFlight || this.timer || !this.hasNews()) return;
    this.timer = this.o.clock.setTimeout(
      () => {
        this.timer = null;
        this.inFlight = this.step().finally(() => {
          this.inFlight = null;
          this.schedule();
        });
      },
      Math.max(0, this.nextAt - this.o.clock.mono()),
    );
  }

  /** One Slack call: start, append or edit. */
  private async step(): Promise<void> {
    const starting = !this.msg?.ts;
    try {
      if (starting) await this.start();
      else if (this.mode === "stream") await this.append();
      else await this.edit();
      this.failures = 0;
      this.nextAt = this.o.clock.mono() + this.o.intervalMs;
      if (starting) this.o.onVisible?.(this.t.eventKey);
    } catch (err) {
      await this.failed(err instanceof SlackCallError ? err.failure : { kind: "unknown", message: String(err) }, starting);
    }
  }

  private async start(): Promise<void> {
    const { slack, store, clock } = this.o;
    const { eventKey, channel, threadTs } = this.t;
    // Recorded before the call: if we crash before hearing back, the restart looks for it.
    this.msg = { eventKey, channel, threadTs: threadTs ?? null, ts: null, mode: this.mode, createdAt: clock.now() };
    this.wasRecorded = true;
    await store.live.put(this.msg);
    let ts: string;
    if (this.mode === "stream") {
      const piece = this.text.slice(0, STREAM_CALL_CHARS);
      const recipient = this.t.isIm ? {} : { recipientUserId: this.t.recipientUserId, recipientTeamId: this.t.recipientTeamId };
      ts = (await slack.startStream({ channel, threadTs: threadTs ?? "", markdown: escapeSlack(piece), ...recipient })).ts;
      this.shown = piece.length;
    } else {
      const shown = Math.min(this.text.length, PREVIEW_CHARS);
      ts = (await slack.postLive({ channel, threadTs, text: preview(this.text.slice(0, shown)), live: eventKey })).ts;
      this.shown = shown;
    }
    this.msg = { ...this.msg, ts };
    await store.live.put(this.msg);
  }

  private async append(): Promise<void> {
    const piece = this.text.slice(this.shown, Math.min(this.text.length, PREVIEW_CHARS, this.shown + STREAM_CALL_CHARS));
    await this.o.slack.appendStream({ channel: this.t.channel, ts: this.msg?.ts ?? "", markdown: escapeSlack(piece) });
    this.shown += piece.length;
  }

  private async edit(): Promise<void> {
    const shown = Math.min(this.text.length, PREVIEW_CHARS);
    const text = shown === 0 ? RESTARTED_NOTE : preview(this.text.slice(0, shown));
    await this.o.slack.update({ channel: this.t.channel, ts: this.msg?.ts ?? "", text });
    this.shown = shown;
    this.noteDue = false;
  }

  private async failed(f: SendFailure, starting: boolean): Promise<void> {
    const { clock, log } = this.o;
    const now = clock.mono();
    const stop = (why: string) => {
      this.done = true;
      log.warn(`answer for ${this.t.eventKey}: no more live updates (${why}); the answer comes when it is done`, { event: this.t.eventKey });
    };
    switch (f.kind) {
      case "ratelimited":
        // Nothing is lost: the next call shows what this one did not.
        this.nextAt = now + f.retryAfterMs;
        return;
      case "revoked":
        return stop(f.message);
      case "permanent":
        if (starting && this.mode === "stream") {
          // Slack would not stream here (a channel type, a recipient): edit a message instead.
          log.info(`answer for ${this.t.eventKey}: no stream here (${f.message}); showing it by edits`, { event: this.t.eventKey });
          this.mode = "update";
          this.msg = null;
          this.shown = 0;
          this.nextAt = now + this.o.intervalMs;
          return;
        }
        return stop(f.message);
      case "unknown":
        if (starting && this.msg) {
          // It may have been posted: look before anything is posted again.
          const ts = await this.findLost(this.msg).catch(() => null);
          if (!ts) return stop(`${f.message}; not found in the conversation`);
          this.msg = { ...this.msg, ts };
          await this.o.store.live.put(this.msg);
          this.o.onVisible?.(this.t.eventKey);
          this.nextAt = now + this.o.intervalMs;
          return;
        }
        // An append may have landed: it is not sent again (the answer replaces the preview anyway).
        if (this.mode === "stream") this.shown = Math.min(this.text.length, PREVIEW_CHARS, this.shown + STREAM_CALL_CHARS);
        break;
      case "transient":
        if (starting) this.msg = null;
        break;
    }
    if (++this.failures >= MAX_FAILURES) return stop(`${this.failures} calls failed, the last: ${f.message}`);
    this.nextAt = now + this.o.intervalMs * 2 ** this.failures;
  }

  /**
   * The message of a start whose answer never came (a timeout, a crash): a live post carries
   * the event in its metadata; a stream carries none, so it is the one bot message of the
   * thread since the start without metadata or files (an answer's, once finished, has them).
   */
  private async findLost(m: LiveMessage): Promise<string | null> {
    const { slack } = this.o;
    const oldest = Math.floor(m.createdAt / 1000) - 2;
    const msgs = m.threadTs ? await slack.replies(m.channel, m.threadTs, 1000) : await slack.history(m.channel, String(oldest), 1000);
    const mine = (x: HistoryMessage) =>
      Number(x.ts) >= oldest && (x.bot_id ? x.bot_id === this.o.botId?.() : x.user === this.o.botUserId()) && x.ts !== m.threadTs;
    const found =
      m.mode === "update"
        ? msgs.filter((x) => mine(x) && x.metadata?.event_type === OUTBOX_EVENT_TYPE && x.metadata.event_payload?.live === m.eventKey)
        : msgs.filter((x) => mine(x) && !x.metadata && !x.files?.length);
    return found.length === 1 ? (found[0]?.ts ?? null) : null;
  }
}

/** The answer so far as the message shows it: escaped like the answer, within one message, marked unfinished. */
function preview(raw: string): string {
  return (splitText(formatAnswer(raw), PART_CHARS - WRITING_MARK.length)[0] ?? "") + WRITING_MARK;
}
