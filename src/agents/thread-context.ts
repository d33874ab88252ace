// Conversation context from the Slack thread, for when there is no relay (contract:
// "conversation context from the relay or the Slack thread"). Bounded and never throwing:
// without context the agent still answers.
import { ANSWERED_SUBTYPES } from "../core/inbound.ts";
import type { HistoryMessage, SlackPort } from "../core/slack-port.ts";
import { stripMention, unescapeSlack } from "../core/text.ts";
import type { ContextMessage } from "./types.ts";

export interface ThreadContextOptions {
  slack: Pick<SlackPort, "replies">;
  channel: string;
  threadTs: string | undefined;
  /** The message being answered: it is the new text, not context. */
  currentTs: string | undefined;
  botUserId: string | undefined;
  botId: string | undefined;
  /** The newest this many turns are kept. */
  maxMessages?: number;
  /** And at most this many characters in all, newest kept. */
  maxChars?: number;
  timeoutMs?: number;
  onError?(err: unknown): void;
}

/** The thread before the current message as user/assistant turns, oldest first. */
export async function threadContext(o: ThreadContextOptions): Promise<ContextMessage[]> {
  if (!o.threadTs) return [];
  let msgs: Awaited<ReturnType<SlackPort["replies"]>>;
  try {
    msgs = await withTimeout(o.slack.replies(o.channel, o.threadTs, 200), o.timeoutMs ?? 6000);
  } catch (err) {
    o.onError?.(err);
    return [];
  }
  const turns: ContextMessage[] = [];
  for (const m of msgs) {
    // Not the message itself, nor what came after it (its own answer being written, or the
    // half answer a crash left, when it is answered again).
    if (m.ts === o.currentTs || (o.currentTs !== undefined && Number(m.ts) > Number(o.currentTs))) continue;
    // Messages with files, /me and broadcasts are turns like any other.
    if (m.subtype && !ANSWERED_SUBTYPES.has(m.subtype) && m.subtype !== "bot_message") continue;
    const mine = (o.botId !== undefined && m.bot_id === o.botId) || (o.botUserId !== undefined && m.user === o.botUserId);
    // Other bots' chatter is not the conversation with us.
    if (!mine && m.bot_id) continue;
    const said = unescapeSlack(mine ? (m.text ?? "") : stripMention(m.text ?? "", o.botUserId)).trim();
    const text = [said, attachedLine(m)].filter(Boolean).join("\n");
    if (text) turns.push({ role: mine ? "assistant" : "user", text });
  }
  return bound(turns, o.maxMessages ?? 30, o.maxChars ?? 20_000);
}

/** A turn's files by name (their content is read only for the message being answered). */
function attachedLine(m: HistoryMessage): string {
  const names = (m.files ?? []).flatMap((f) => (f.name ?? f.title ? [f.name ?? f.title] : []));
  return names.length ? `[attached: ${names.join(", ")}]` : "";
}

/** Newest turns first to fit, returned oldest first. */
function bound(turns: ContextMessage[], maxMessages: number, maxChars: number): ContextMessage[] {
  const kept: ContextMessage[] = [];
  let chars = 0;
  for (let i = turns.length - 1; i >= 0 && kept.length < maxMessages; i--) {
    const t = turns[i] as ContextMessage;
    if (chars + t.text.length > maxChars) break;
    chars += t.text.length;
    kept.unshift(t);
  }
  return kept;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`conversations.replies took over ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
