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
import type { Logger } from "./logger.ts";
import { OUTBOX_EVENT_TYPE, SlackCallError, type HistoryMessage, type SlackPort } from "./slack-port.ts";
import type { Store, ThreadActivity } from "./store.ts";

/** The contract: at most 1 hour back. */
export const CATCHUP_WINDOW_MS = 60 * 60 * 1000;
/** The contract: conversations the bot took part in during the last 7 days. */
export const CATCHUP_CONVERSATIONS_MS = 7 * 24 * 60 * 60 * 1000;
/** One catch-up run gives up after this long (history is rate limited per workspace). */
export const RUN_BUDGET_MS = 5 * 60 * 1000;
/** Messages read per conversation at most. */
const PER_CONVERSATION = 1000;
/** A later run re-reads from a little before the previous one started (clock skew). */
const OVERLAP_MS = 2 * 60 * 1000;
/** Threads read per run at most (conversations.replies is rate limited like history). */
const MAX_THREADS = 50;

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
  /** When the previous successful run of this process started (ms), to read only what is new. */
  since?: number;
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

export async function catchUp(o: CatchupOptions): Promise<number> {
  const me = o.botUserId();
  if (!me) return 0;
  const sleep = o.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const start = o.now();
  const mono = o.mono ?? (() => performance.now());
  const startMono = mono();
  const from = Math.max(start - CATCHUP_WINDOW_MS, o.since === undefined ? 0 : o.since - OVERLAP_MS);
  const oldest = (from / 1000).toFixed(6);
  const channels = new Set(await o.conversations(start - CATCHUP_CONVERSATIONS_MS));
  for (const im of await o.slack.ims()) channels.add(im);

  /** Calls Slack, waiting out rate limits within the run's budget; null when it cannot. */
  const read = async (what: string, call: () => Promise<HistoryMessage[]>, quiet: string[] = []): Promise<HistoryMessage[] | null> => {
    while (mono() - startMono < RUN_BUDGET_MS) {
      try {
        return await call();
      } catch (err) {
        const f = err instanceof SlackCallError ? err.failure : null;
        if (f?.kind === "ratelimited") {
          await sleep(f.retryAfterMs);
          continue;
        }
        if (quiet.includes((err as Error).message)) return [];
        // One archived or left channel must not stop the others.
        o.log.warn(`catch-up: cannot read ${what}: ${(err as Error).message}`);
        return null;
      }
    }
    return null;
  };

  const delivered = new Set<string>();
  // Each is recorded before the next conversation is read: whether the store knows a conversation depends on it.
  const deliver = async (channel: string, isIm: boolean, msgs: HistoryMessage[], answeredUpTo: string) => {
    for (const m of msgs) {
      const key = `${channel}:${m.ts}`;
      if (delivered.has(key) || Number(m.ts) < Number(oldest) || Number(m.ts) <= Number(answeredUpTo)) continue;
      if (!addressedToMe(m, isIm, me)) continue;
      delivered.add(key);
      await o.deliver("events_api", synthetic(channel, isIm, m));
    }
  };

  let failed = 0;
  // Threads to read: parents seen with new replies first, then threads the store knows of.
  const threads = new Map<string, { channel: string; threadTs: string }>();
  /** Threads whose state the history showed (parent in the window): nothing more to learn. */
  const decided = new Set<string>();
  const readChannels = new Set<string>();
  for (const channel of channels) {
    const isIm = channel.startsWith("D");
    const msgs = await read(channel, () => o.slack.history(channel, oldest, PER_CONVERSATION));
    if (msgs === null) {
      failed++;
      continue;
    }
    readChannels.add(channel);
    await deliver(channel, isIm, msgs, isIm && !(await o.known(channel)) ? newestReply(msgs) : "0");
    for (const m of msgs) {
      decided.add(`${channel}:${m.ts}`);
      if ((m.reply_count ?? 0) > 0 && Number(m.latest_reply ?? 0) >= Number(oldest)) threads.set(`${channel}:${m.ts}`, { channel, threadTs: m.ts });
    }
  }
  for (const t of (await o.threads?.(start - CATCHUP_CONVERSATIONS_MS)) ?? []) {
    const key = `${t.channel}:${t.threadTs}`;
    // A parent inside the window of a channel read would have been in its history.
    const inHistory = readChannels.has(t.channel) && Number(t.threadTs) >= Number(oldest);
    if (!decided.has(key) && !inHistory && !threads.has(key)) threads.set(key, t);
  }
  if (threads.size > MAX_THREADS) o.log.warn(`catch-up: ${threads.size} threads, reading the first ${MAX_THREADS}`);
  for (const { channel, threadTs } of [...threads.values()].slice(0, MAX_THREADS)) {
    const isIm = channel.startsWith("D");
    // A deleted parent leaves nothing to answer.
    const msgs = await read(`${channel} thread ${threadTs}`, () => o.slack.replies(channel, threadTs, PER_CONVERSATION), ["thread_not_found"]);
    if (msgs === null) {
      failed++;
      continue;
    }
    const replies = msgs.filter((m) => m.ts !== threadTs);
    await deliver(channel, isIm, replies, isIm && !(await o.known(channel)) ? newestReply(replies) : "0");
  }
  const found = delivered.size;
  if (found) o.log.info(`catch-up: ${found} messages from while clawdbot was away checked`);
  if (failed) throw new Error(`catch-up could not read ${failed} of ${channels.size + Math.min(threads.size, MAX_THREADS)} conversations and threads`);
  return found;
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
  // A thread reply also sent to the channel is still a message to answer.
  if ((m.subtype && m.subtype !== "thread_broadcast") || m.bot_id || m.user === me || !m.user) return false;
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
    },
  };
}
