// Queues replies in the durable outbox: long text split at Slack's limits, and the same
// text to the same conversation within 5 minutes suppressed (seed 2.7) — by a fingerprint
// column in the store, so the check is bounded by the store's retention, not by memory.
import { createHash } from "node:crypto";
import type { NewOutbox, StoreTx } from "./store.ts";
import { splitText } from "./text.ts";

export const DUPLICATE_WINDOW_MS = 5 * 60 * 1000;

/**
 * Where a reply reaches the user: a conversation (and thread), or, for a slash command, its
 * response_url: used instead of posting when `respond` is set (the bot cannot post there), else
 * only if Slack refuses the post because the bot is not in the conversation (see OutboxSender).
 */
export interface ReplyTo {
  channel: string;
  threadTs?: string;
  responseUrl?: string;
  respond?: boolean;
}

export interface Reply extends ReplyTo {
  eventKey?: string;
  text: string;
  blocks?: unknown[];
  /** Cards and job results are never suppressed as duplicates. */
  noDedupe?: boolean;
}

export function fingerprint(channel: string, threadTs: string | undefined, text: string): string {
  return createHash("sha256").update(`${channel}\u0000${threadTs ?? ""}\u0000${text}`).digest("base64url").slice(0, 32);
}

/** Queues a message (split if long). Returns the outbox ids; suppressed parts included. Call inside store.tx. */
export async function queueReply(store: StoreTx, r: Reply, now: number): Promise<number[]> {
  return queueParts(store, r, r.blocks ? [r.text] : splitText(r.text), now);
}

async function queueParts(store: StoreTx, r: Reply, parts: string[], now: number): Promise<number[]> {
  const ids: number[] = [];
  const respond = r.respond === true && r.responseUrl !== undefined;
  for (const [i, text] of parts.entries()) {
    const item: NewOutbox = {
      eventKey: r.eventKey,
      op: respond ? "respond" : "post",
      channel: r.channel,
      threadTs: respond ? undefined : r.threadTs,
      responseUrl: r.responseUrl,
      text,
      blocks: i === 0 ? r.blocks : undefined,
    };
    if (!r.noDedupe) {
      const fp = fingerprint(r.channel, r.threadTs, text);
      item.fingerprint = fp;
      if (await store.outbox.hasRecent(fp, now - DUPLICATE_WINDOW_MS)) item.status = "suppressed";
    }
    ids.push(await store.outbox.enqueue(item, now));
  }
  return ids;
}

/** What a live message shows when its answer is the same as one given within the last 5 minutes. */
export const DUPLICATE_NOTE = "_Same answer as above; not repeated._";

/**
 * Queues an answer whose first part goes into the message already showing it (a live answer):
 * an update of `ts`; further parts are posted after it. The same text within 5 minutes is
 * suppressed as in queueReply (and recorded so); the live message then says so instead of
 * keeping a preview. Call inside store.tx.
 */
export async function queueReplyInto(store: StoreTx, r: Reply, ts: string, now: number): Promise<number[]> {
  const [first = "", ...rest] = splitText(r.text);
  const fp = r.noDedupe ? undefined : fingerprint(r.channel, r.threadTs, first);
  const into = { eventKey: r.eventKey, op: "update" as const, channel: r.channel, threadTs: r.threadTs, targetTs: ts };
  const ids: number[] = [];
  if (fp && (await store.outbox.hasRecent(fp, now - DUPLICATE_WINDOW_MS))) {
    ids.push(await store.outbox.enqueue({ ...into, text: first, fingerprint: fp, status: "suppressed" }, now));
    ids.push(await store.outbox.enqueue({ ...into, text: DUPLICATE_NOTE }, now));
  } else {
    ids.push(await store.outbox.enqueue({ ...into, text: first, ...(fp ? { fingerprint: fp } : {}) }, now));
  }
  ids.push(...(await queueParts(store, r, rest, now)));
  return ids;
}

export function queueEphemeral(store: StoreTx, a: { eventKey?: string; channel: string; user: string; threadTs?: string; text: string }, now: number): Promise<number> {
  return store.outbox.enqueue({ ...a, op: "ephemeral" }, now);
}

export function queueUpdate(store: StoreTx, a: { channel: string; ts: string; text: string; blocks?: unknown[] }, now: number): Promise<number> {
  return store.outbox.enqueue({ op: "update", channel: a.channel, targetTs: a.ts, text: a.text, blocks: a.blocks }, now);
}

export function queueRespond(store: StoreTx, a: { eventKey?: string; channel: string; responseUrl: string; text: string }, now: number): Promise<number> {
  return store.outbox.enqueue({ op: "respond", eventKey: a.eventKey, channel: a.channel, responseUrl: a.responseUrl, text: a.text }, now);
}
