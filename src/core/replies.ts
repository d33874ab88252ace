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
  const parts = r.blocks ? [r.text] : splitText(r.text);
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

export function queueEphemeral(store: StoreTx, a: { eventKey?: string; channel: string; user: string; threadTs?: string; text: string }, now: number): Promise<number> {
  return store.outbox.enqueue({ ...a, op: "ephemeral" }, now);
}

export function queueUpdate(store: StoreTx, a: { channel: string; ts: string; text: string; blocks?: unknown[] }, now: number): Promise<number> {
  return store.outbox.enqueue({ op: "update", channel: a.channel, targetTs: a.ts, text: a.text, blocks: a.blocks }, now);
}

export function queueRespond(store: StoreTx, a: { eventKey?: string; channel: string; responseUrl: string; text: string }, now: number): Promise<number> {
  return store.outbox.enqueue({ op: "respond", eventKey: a.eventKey, channel: a.channel, responseUrl: a.responseUrl, text: a.text }, now);
}
