// A job's output while it runs: once a job has run for a while, its latest lines are posted in
// the card's thread and edited in place at most every few seconds; the result comes as before,
// through the outbox, after it. Best effort like a live answer: outside the outbox, a post
// whose outcome is unknown is not tried again (no second progress message), a rate limit is
// waited out, and a failure never touches the job or its result.
import type { Clock, Timer } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { SlackCallError, type SlackPort } from "./slack-port.ts";
import { formatSeconds, renderOutput } from "./text.ts";

/** Lines of output shown, and at most this many characters of them (the newest). */
const SHOWN_LINES = 15;
const SHOWN_CHARS = 2000;

export interface JobProgressOptions {
  slack: Pick<SlackPort, "postLive" | "update">;
  clock: Clock;
  log: Logger;
  /** A job running this long gets its progress message... */
  afterMs: number;
  /** ...edited at most this often. */
  everyMs: number;
}

export interface ProgressTarget {
  approvalId: string;
  channel: string;
  /** The card's thread. */
  threadTs: string | undefined;
}

export type StartProgress = (t: ProgressTarget) => JobProgress;

export class JobProgress {
  private latest: (() => string) | null = null;
  private shown: string | null = null;
  private ts: string | null = null;
  private timer: Timer | null = null;
  private inFlight: Promise<void> | null = null;
  private done = false;
  private lastCallAt = 0;
  private readonly startedAt: number;

  constructor(
    private readonly o: JobProgressOptions,
    private readonly t: ProgressTarget,
  ) {
    this.startedAt = o.clock.mono();
    this.wait(o.afterMs);
  }

  /** The jobs port's onOutput: the newest output, read when it is time to show it. */
  output(latest: () => string): void {
    this.latest = latest;
  }

  /**
   * The job ended: no more live edits. With `report` (not when shutting down: the restart
   * reports the job interrupted) the progress message is edited once more to say it is over,
   * no sooner than the interval allows; the result does not wait for that. Never throws.
   */
  async finish(report = true): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    if (!this.ts || !report) return;
    const ts = this.ts;
    const text = this.text(true);
    this.o.clock.setTimeout(
      () => void this.call(() => this.o.slack.update({ channel: this.t.channel, ts, text })),
      Math.max(0, this.lastCallAt + this.o.everyMs - this.o.clock.mono()),
    );
  }

  private wait(ms: number): void {
    if (this.done) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      this.inFlight = this.tick().finally(() => {
        this.inFlight = null;
      });
    }, ms);
  }

  private async tick(): Promise<void> {
    const { slack } = this.o;
    const { channel, threadTs, approvalId } = this.t;
    const text = this.text(false);
    let next = this.o.everyMs;
    if (this.ts === null) {
      const r = await this.call(() => slack.postLive({ channel, threadTs, text, live: `job:${approvalId}` }));
      if (r.ok) {
        this.ts = r.value.ts;
        this.shown = text;
      } else if (r.retryAfterMs !== undefined) next = r.retryAfterMs;
      // Refused, or perhaps posted without an answer: no second progress message.
      else return;
    } else if (text !== this.shown) {
      const ts = this.ts;
      const r = await this.call(() => slack.update({ channel, ts, text }));
      if (r.ok) this.shown = text;
      else if (r.retryAfterMs !== undefined) next = Math.max(next, r.retryAfterMs);
    }
    this.wait(next);
  }

  /** The message: how long it has run, then its newest lines in a code block. */
  private text(finished: boolean): string {
    const { approvalId } = this.t;
    const took = formatSeconds(this.o.clock.mono() - this.startedAt);
    const head = finished
      ? `Job ${approvalId} ran for ${took}; its result follows. Its last output:`
      : `:hourglass_flowing_sand: Job ${approvalId} has been running for ${took}. Its latest output (updated every ${formatSeconds(this.o.everyMs)}):`;
    const out = lastLines(this.latest?.() ?? "");
    return out ? `${head}\n\`\`\`\n${renderOutput(out)}\n\`\`\`` : `${head} (none yet)`;
  }

  private async call<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; retryAfterMs?: number }> {
    this.lastCallAt = this.o.clock.mono();
    try {
      return { ok: true, value: await fn() };
    } catch (err) {
      const f = err instanceof SlackCallError ? err.failure : undefined;
      this.o.log.warn(`job ${this.t.approvalId}: its live output could not be shown (${(err as Error).message}); the result comes as usual`, {
        approval: this.t.approvalId,
      });
      return f?.kind === "ratelimited" ? { ok: false, retryAfterMs: f.retryAfterMs } : { ok: false };
    }
  }
}

/** The newest SHOWN_LINES lines, within SHOWN_CHARS. */
function lastLines(output: string): string {
  const lines = output.trimEnd().split("\n").slice(-SHOWN_LINES);
  let text = lines.join("\n");
  if (text.length > SHOWN_CHARS) text = `…${text.slice(text.length - SHOWN_CHARS)}`;
  return text;
}
