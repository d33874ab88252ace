// The sign that the bot is working on a message, shown as soon as it is taken up and cleared
// when the answer reaches Slack. Where the answer goes into a thread (a mention, a reply in a
// thread) it is the thread's assistant status: assistant.threads.setStatus takes chat:write
// in channels too since docs.slack.dev/changelog/2026/03/05/set-status-scope-update. A
// top-level DM is answered top-level, where no thread shows a status: the message gets a
// reaction instead. A /claw question has no message to mark: its response_url gets an
// ephemeral line. An agent error leaves a distinct reaction on the message.
//
// Best effort: the answer never waits for it, a failed call is not retried (a status that
// fails falls back to the reaction once), and nothing of it is in the store or the outbox.
// It waits `afterMs` first: an answer that comes sooner needs no sign (and costs Slack no
// calls: an echo-fast agent would otherwise add and remove a reaction on every message).
import type { Clock, Timer } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { Semaphore } from "./semaphore.ts";
import type { SlackPort } from "./slack-port.ts";

export const STATUS_TEXT = "is thinking…";
export const WORKING_REACTION = "eyes";
export const ERROR_REACTION = "warning";
export const SLASH_WORKING = ":hourglass_flowing_sand: Working on it…";

/**
 * Sign calls in flight at once. They share the Web API client with the replies: a burst of
 * signs must not queue ahead of the answers (the rest of a burst's signs wait their turn here).
 * Clearing a sign goes ahead of showing one: a waiting sign whose answer lands meanwhile is
 * never shown, so a burst's signs do not pile up behind it and spill into what comes next.
 */
const CALLS_AT_ONCE = 4;
/** A sign nobody cleared (the answer went out through another instance, or never) is forgotten after this. */
const FORGET_AFTER_MS = 10 * 60 * 1000;

export interface SignTarget {
  eventKey: string;
  channel: string;
  /** The message being answered; none for /claw. */
  ts?: string;
  /** The thread the answer goes into, if it goes into one. */
  threadTs?: string;
  /** /claw: the command's response_url. */
  responseUrl?: string;
}

type Shown =
  | { kind: "status"; channel: string; threadTs: string; ts?: string }
  | { kind: "reaction"; channel: string; ts: string }
  | { kind: "ephemeral" };

export interface SignsOptions {
  slack: Pick<SlackPort, "setStatus" | "react" | "unreact" | "respond">;
  log: Logger;
  clock: Clock;
  /** How long an answer may take before the sign is shown (well inside the promised second). */
  afterMs: number;
}

interface Entry {
  target: SignTarget;
  sign: Promise<Shown | null>;
  at: number;
  over: boolean;
  /** Until the sign is due. */
  timer?: Timer;
}

export class SignsOfLife {
  private readonly shown = new Map<string, Entry>();
  private readonly calls = new Semaphore(CALLS_AT_ONCE);

  constructor(private readonly o: SignsOptions) {}

  /** Shows the sign for an event being answered (once per event). Returns at once. */
  show(t: SignTarget): void {
    if (this.shown.has(t.eventKey)) return;
    const now = this.o.clock.mono();
    // Oldest first (insertion order): only the stale head is looked at, not every sign in a burst.
    for (const [key, e] of this.shown) {
      if (now - e.at <= FORGET_AFTER_MS) break;
      this.shown.delete(key);
    }
    const entry: Entry = { target: t, sign: Promise.resolve(null), at: now, over: false };
    const due = () => this.put(t, () => entry.over);
    entry.sign =
      this.o.afterMs > 0
        ? new Promise((resolve) => {
            entry.timer = this.o.clock.setTimeout(() => {
              entry.timer = undefined;
              resolve(due());
            }, this.o.afterMs);
          })
        : due();
    this.shown.set(t.eventKey, entry);
  }

  /** The answer reached Slack: the sign goes. */
  answered(eventKey: string): void {
    this.end(eventKey, false);
  }

  /** The agent failed: the sign goes and the message is marked. */
  failed(eventKey: string): void {
    this.end(eventKey, true);
  }

  private end(eventKey: string, failed: boolean): void {
    const e = this.shown.get(eventKey);
    if (!e) return;
    this.shown.delete(eventKey);
    // A sign still waiting for its turn is not shown at all: the answer came first.
    e.over = true;
    if (e.timer) {
      this.o.clock.clearTimeout(e.timer);
      const ts = e.target.ts;
      // The failure is marked on the message all the same.
      if (failed && ts && !e.target.responseUrl) {
        void this.tryCall("marking an error", () => this.o.slack.react({ channel: e.target.channel, ts, name: ERROR_REACTION }));
      }
      return;
    }
    // After the sign's own call, so a slow one is not cleared before it lands.
    void e.sign.then((s) => (s ? this.clear(s, failed) : undefined));
  }

  private async put(t: SignTarget, over: () => boolean): Promise<Shown | null> {
    const { slack } = this.o;
    if (t.responseUrl) {
      const url = t.responseUrl;
      return (await this.tryCall("a working line", () => slack.respond(url, { text: SLASH_WORKING, response_type: "ephemeral" }), over))
        ? { kind: "ephemeral" }
        : null;
    }
    if (t.threadTs) {
      const threadTs = t.threadTs;
      if (await this.tryCall("a thread status", () => slack.setStatus({ channel: t.channel, threadTs, status: STATUS_TEXT }), over)) {
        return { kind: "status", channel: t.channel, threadTs, ...(t.ts ? { ts: t.ts } : {}) };
      }
    }
    if (!t.ts || over()) return null;
    const ts = t.ts;
    return (await this.tryCall("a reaction", () => slack.react({ channel: t.channel, ts, name: WORKING_REACTION }), over))
      ? { kind: "reaction", channel: t.channel, ts }
      : null;
  }

  private async clear(s: Shown, failed: boolean): Promise<void> {
    const { slack } = this.o;
    if (s.kind === "ephemeral") return;
    if (s.kind === "status") await this.tryCall("clearing a thread status", () => slack.setStatus({ channel: s.channel, threadTs: s.threadTs, status: "" }), undefined, true);
    else await this.tryCall("removing a reaction", () => slack.unreact({ channel: s.channel, ts: s.ts, name: WORKING_REACTION }), undefined, true);
    const ts = s.ts;
    if (failed && ts) await this.tryCall("marking an error", () => slack.react({ channel: s.channel, ts, name: ERROR_REACTION }), undefined, true);
  }

  /**
   * One attempt, in its turn (skipped if `skip` says so by then; `clearing` goes ahead of the
   * signs still waiting); a failure is logged and is not the answer's business.
   */
  private async tryCall(what: string, fn: () => Promise<unknown>, skip?: () => boolean, clearing = false): Promise<boolean> {
    await this.calls.acquire(clearing);
    try {
      if (skip?.()) return false;
      await fn();
      return true;
    } catch (err) {
      this.o.log.warn(`sign of life: ${what} failed (${(err as Error).message}); the answer is not affected`);
      return false;
    } finally {
      this.calls.release();
    }
  }
}
