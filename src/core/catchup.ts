// After a reconnect or a restart: messages addressed to the bot that arrived while it was
// away (DMs, and mentions in conversations it took part in during the last 7 days, at
// most 1 hour back) are fetched and go through the same door as live events, so the
// dedupe key makes each one answered once.
//
// "Took part in" comes from our own store, so a new data dir does not answer the last
// hour's mentions a second time. A DM the store knows nothing of (a new data dir) counts
// as answered up to the bot's newest reply in it; a DM the store knows is deduped by the
// store alone, since replies there can come out of order after an outage.
//
// Thread replies are not in history: the threads of parents with new replies, and the
// threads the store knows the bot took part in (their parents may be older than the
// window), are read with conversations.replies.
import { ANSWERED_SUBTYPES } from "./inbound.ts";
import type { Logger } from "./logger.ts";
import { OUTBOX_EVENT_TYPE, SlackCallError, type HistoryMessage, type SlackPort } from "./slack-port.ts";
import type { Store, ThreadActivity } from "./store.ts";

/** The contract: at most 1 hour back. */
export const CATCHUP_WINDOW_MS = 60 * 60 * 1000;
/** The contract: conversations the bot took part in during the last 7 days. */
export const CATCHUP_CONVERSATIONS_MS = 7 * 24 * 60 * 60 * 1000;
/** One catch-up run gives up after this long (history is rate limited per workspace). */
export const RUN_BUDGET_MS = 5 * 60 * 1000;
/**
 * Slack calls per run at most. conversations.history and .replies are Tier 3, about 50 a minute
 * (https://docs.slack.dev/apis/web-api/rate-limits); the rest of the minute is left to live
 * work (thread context, the outbox's look before a re-send). What is left waits for the next run.
 */
export const CALLS_PER_RUN = 40;
/** Messages read per conversation at most: one page (the port asks 200 at a time), so one call. */
const PER_CONVERSATION = 200;
/** A later read re-reads from a little before the previous one started (clock skew). */
const OVERLAP_MS = 2 * 60 * 1000;
/** A conversation Slack will not let us read (left, archived, a scope missing) is not asked again for this long. */
const UNREADABLE_PAUSE_MS = 60 * 60 * 1000;

/** Errors that say a conversation cannot be read by this app as it is: reported once, not a failure. */
const UNREADABLE = new Set(["missing_scope", "channel_not_found", "not_in_channel", "is_archived", "access_denied", "not_allowed_token_type"]);

/** What catch-up remembers between runs of one process. */
export class CatchupState {
  /** Per conversation (`C1`) and thread (`C1:171.2`): the start of the run that last read it (ms). */
  readonly readAt = new Map<string, number>();
  /** Threads found with new replies whose read a run's budget postponed. */
  readonly postponed = new Map<string, { channel: string; threadTs: string }>();
  /** Conversations Slack refused for good, and until when they are left alone. */
  readonly unreadable = new Map<string, number>();
  /** Refusals already logged as a warning (each once per process). */
  readonly reported = new Set<string>();
}

export interface CatchupOptions {
  slack: Pick<SlackPort, "history" | "replies" | "ims">;
  /** Conversation ids the bot took part in since `since` (ms), from the store. */
  conversations(since: number): Promise<string[]>;
  /**
   * Threads the bot took part in since `since` (ms), newest activity first, from the store:
   * their parents may be older than the window, so history alone does not show new replies.
   */
  threads?(since: number): Promise<{ channel: string; threadTs: string }[]>;
  /** Whether the store has any event of this conversation. */
  known(channel: string): Promise<boolean>;
  /** What earlier runs of this process read; a fresh state reads the whole window. */
  state?: CatchupState;
  /** Slack calls per run (default CALLS_PER_RUN). */
  maxCalls?: number;
  log: Logger;
  /** Wall time: what Slack's ts are compared with. */
  now(): number;
  /** The monotonic clock (default performance.now): the run's budget is an interval. */
  mono?(): number;
  sleep?(ms: number): Promise<void>;
  botUserId(): string | undefined;
  /** Takes a found message in as if delivered live; resolves once it is recorded. */
  deliver(type: "events_api", payload: Record<string, unknown>): Promise<unknown>;
}

export interface CatchupResult {
  /** Messages found and handed in. */
  found: number;
  /** Conversations and threads the run's budget left for the next run. */
  left: number;
}

export async function catchUp(o: CatchupOptions): Promise<CatchupResult> {
  const me = o.botUserId();
  if (!me) return { found: 0, left: 0 };
  const state = o.state ?? new CatchupState();
  const maxCalls = o.maxCalls ?? CALLS_PER_RUN;
  const sleep = o.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const start = o.now();
  const mono = o.mono ?? (() => performance.now());
  const startMono = mono();
  const windowStart = start - CATCHUP_WINDOW_MS;
  /** Where reading `key` starts: the window, or a little before the run that last read it. */
  const oldestFor = (key: string) => (Math.max(windowStart, (state.readAt.get(key) ?? 0) - OVERLAP_MS) / 1000).toFixed(6);
  /** Least recently read first: what a budget postponed goes first next time. */
  const byAge = (a: string, b: string) => (state.readAt.get(a) ?? 0) - (state.readAt.get(b) ?? 0);
  let calls = 1;
  const channels = new Set(await o.conversations(start - CATCHUP_CONVERSATIONS_MS));
  for (const im of await o.slack.ims()) channels.add(im);
  for (const [ch, until] of state.unreadable) if (until <= start) state.unreadable.delete(ch);

  let failed = 0;
  let left = 0;
  /**
   * Calls Slack within the run's budgets; null when it cannot: counted as failed, or as left for
   * the next run when a budget ran out, or neither when Slack refused for good.
   */
  const read = async (key: string, what: string, call: () => Promise<HistoryMessage[]>, quiet: string[] = []): Promise<HistoryMessage[] | null> => {
    while (mono() - startMono < RUN_BUDGET_MS && calls < maxCalls) {
      calls++;
      try {
        return await call();
      } catch (err) {
        const f = err instanceof SlackCallError ? err.failure : null;
        const code = (err as Error).message;
        if (f?.kind === "ratelimited") {
          await sleep(f.retryAfterMs);
          continue;
        }
        if (quiet.includes(code)) return [];
        if (UNREADABLE.has(code)) {
          // Once, not every run: an admin fixes it (a scope, an invitation) or it stays so.
          state.unreadable.set(key, start + UNREADABLE_PAUSE_MS);
          const line = `catch-up: cannot read ${what}: ${code}${code === "missing_scope" ? " (the Slack app lacks a history scope: add the scopes of `clawdbot manifest` and reinstall it)" : ""}; skipped`;
          if (state.reported.has(`${key}:${code}`)) o.log.debug(line);
          else o.log.warn(line);
          state.reported.add(`${key}:${code}`);
          return null;
        }
        // One channel failing must not stop the others.
        o.log.warn(`catch-up: cannot read ${what}: ${code}`);
        failed++;
        return null;
      }
    }
    left++;
    return null;
  };

  const delivered = new Set<string>();
  // Each is recorded before the next conversation is read: whether the store knows a conversation depends on it.
  const deliver = async (channel: string, isIm: boolean, msgs: HistoryMessage[], oldest: string, answeredUpTo: string) => {
    for (const m of msgs) {
      const key = `${channel}:${m.ts}`;
      if (delivered.has(key) || Number(m.ts) < Number(oldest) || Number(m.ts) <= Number(answeredUpTo)) continue;
      if (!addressedToMe(m, isIm, me)) continue;
      delivered.add(key);
      await o.deliver("events_api", synthetic(channel, isIm, m));
    }
  };

  /** Threads whose state the history showed (parent in the window): nothing more to learn. */
  const decided = new Set<string>();
  /** Conversations read this run, and from when. */
  const readFrom = new Map<string, string>();
  for (const channel of [...channels].filter((c) => !state.unreadable.has(c)).sort(byAge)) {
    const isIm = channel.startsWith("D");
    const oldest = oldestFor(channel);
    const msgs = await read(channel, channel, () => o.slack.history(channel, oldest, PER_CONVERSATION));
    if (msgs === null) continue;
    readFrom.set(channel, oldest);
    await deliver(channel, isIm, msgs, oldest, isIm && !(await o.known(channel)) ? newestReply(msgs) : "0");
    state.readAt.set(channel, start);
    for (const m of msgs) {
      decided.add(`${channel}:${m.ts}`);
      if ((m.reply_count ?? 0) > 0 && Number(m.latest_reply ?? 0) >= Number(oldest)) {
        state.postponed.set(`${channel}:${m.ts}`, { channel, threadTs: m.ts });
      }
    }
  }
  // Threads to read: those seen with new replies (this run or postponed), then those the store knows of.
  const threads = new Map(state.postponed);
  for (const t of (await o.threads?.(start - CATCHUP_CONVERSATIONS_MS)) ?? []) {
    const key = `${t.channel}:${t.threadTs}`;
    // A parent inside the window of a channel read would have been in its history.
    const from = readFrom.get(t.channel);
    const inHistory = from !== undefined && Number(t.threadTs) >= Number(from);
    if (!decided.has(key) && !inHistory && !threads.has(key)) threads.set(key, t);
  }
  for (const key of [...threads.keys()].sort(byAge)) {
    const { channel, threadTs } = threads.get(key) as { channel: string; threadTs: string };
    if (state.unreadable.has(channel)) {
      state.postponed.delete(key);
      continue;
    }
    const isIm = channel.startsWith("D");
    const oldest = oldestFor(key);
    // A deleted parent leaves nothing to answer.
    const msgs = await read(channel, `${channel} thread ${threadTs}`, () => o.slack.replies(channel, threadTs, PER_CONVERSATION), ["thread_not_found"]);
    if (msgs === null) continue;
    const replies = msgs.filter((m) => m.ts !== threadTs);
    await deliver(channel, isIm, replies, oldest, isIm && !(await o.known(channel)) ? newestReply(replies) : "0");
    state.readAt.set(key, start);
    state.postponed.delete(key);
  }
  const found = delivered.size;
  if (found) o.log.info(`catch-up: ${found} messages from while clawdbot was away checked`);
  if (left) o.log.info(`catch-up: ${left} conversations and threads left for the next run (at most ${maxCalls} Slack calls a run)`);
  if (failed) throw new Error(`catch-up could not read ${failed} conversations and threads; they are read again next run`);
  return { found, left };
}

/** Threads the store knows of, at most this many (catch-up reads the newest MAX_THREADS). */
const KNOWN_THREADS = 200;

/**
 * Where the store says the bot took part: conversations and threads where it was addressed
 * (inbound events) or posted (the outbox).
 */
export function storeParticipation(store: Store): Pick<CatchupOptions, "conversations" | "threads" | "known"> {
  return {
    conversations: async (since) => [...new Set([...(await store.events.activeChannels(since)), ...(await store.outbox.postedChannels(since))])],
    threads: async (since) =>
      newestThreads([...(await store.events.activeThreads(since, KNOWN_THREADS)), ...(await store.outbox.postedThreads(since, KNOWN_THREADS))]),
    known: (channel) => store.events.knows(channel),
  };
}

/** One entry per thread at its latest activity, newest first. */
function newestThreads(all: ThreadActivity[]): ThreadActivity[] {
  const latest = new Map<string, ThreadActivity>();
  for (const t of all) {
    const key = `${t.channel}:${t.threadTs}`;
    if ((latest.get(key)?.at ?? -Infinity) < t.at) latest.set(key, t);
  }
  return [...latest.values()].sort((a, b) => b.at - a.at).slice(0, KNOWN_THREADS);
}

/** The ts of the newest clawdbot reply in these messages, "0" if none. */
function newestReply(msgs: HistoryMessage[]): string {
  let newest = "0";
  for (const m of msgs) {
    if (m.metadata?.event_type === OUTBOX_EVENT_TYPE && Number(m.ts) > Number(newest)) newest = m.ts;
  }
  return newest;
}

function addressedToMe(m: HistoryMessage, isIm: boolean, me: string): boolean {
  // A message with files, a /me message, a thread reply also sent to the channel: still messages to answer.
  if ((m.subtype && !ANSWERED_SUBTYPES.has(m.subtype)) || m.bot_id || m.user === me || !m.user) return false;
  return isIm || (m.text ?? "").includes(`<@${me}`);
}

/** An event_callback as Slack would have delivered it live. */
function synthetic(channel: string, isIm: boolean, m: HistoryMessage): Record<string, unknown> {
  return {
    type: "event_callback",
    event_id: `catchup:${channel}:${m.ts}`,
    event: {
      type: isIm ? "message" : "app_mention",
      channel,
      channel_type: isIm ? "im" : "channel",
      user: m.user,
      text: m.text ?? "",
      ts: m.ts,
      thread_ts: m.thread_ts,
      ...(m.subtype ? { subtype: m.subtype } : {}),
      ...(m.files?.length ? { files: m.files } : {}),
    },
  };
}
