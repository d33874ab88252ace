// chat.postMessage, chat.update, chat.postEphemeral, chat.delete, chat.getPermalink.
import { apiMessage } from "../api-json.ts";
import { checkBlocks, checkMarkdownText, MAX_ATTACHMENTS, MAX_TEXT, MAX_UPDATE_TEXT } from "../limits.ts";
import type { EmuMessage, MessageMetadata } from "../types.ts";
import { ApiError, type Args, bool, type CallContext, type MethodTable, type Result, str } from "./common.ts";

interface Content {
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  /** Set when Slack shortened the text (https://docs.slack.dev/reference/methods/chat.postMessage#truncating). */
  truncated?: boolean;
}

/**
 * text / markdown_text / blocks / attachments as Slack checks them. `maxText` and what happens
 * beyond it differ per method: chat.postMessage truncates at 40,000, chat.postEphemeral answers
 * msg_too_long, chat.update answers msg_too_long beyond 4,000 (each method's docs page).
 */
export function messageContent(a: Args, o: { required: boolean; maxText: number; truncate: boolean }): Content {
  const markdown = typeof a.markdown_text === "string" ? a.markdown_text : undefined;
  let text = typeof a.text === "string" ? a.text : "";
  // markdown_text "should not be used in conjunction with blocks or text" (chat.postMessage docs).
  if (markdown !== undefined && (text || a.blocks !== undefined)) throw new ApiError("markdown_text_conflict");
  if (markdown !== undefined) text = markdown;
  const refusal = checkMarkdownText(markdown) ?? checkBlocks(a.blocks);
  if (refusal) throw ApiError.refusal(refusal);
  const blocks = Array.isArray(a.blocks) ? a.blocks : undefined;
  const attachments = Array.isArray(a.attachments) ? a.attachments : undefined;
  if (attachments && attachments.length > MAX_ATTACHMENTS) throw new ApiError("too_many_attachments");
  if (o.required && !text && !blocks?.length && !attachments?.length) throw new ApiError("no_text");
  let truncated = false;
  if (text.length > o.maxText) {
    if (!o.truncate) throw new ApiError("msg_too_long");
    text = text.slice(0, o.maxText);
    truncated = true;
  }
  return { text, blocks, attachments, truncated };
}

export function messageMetadata(a: Args): MessageMetadata | undefined {
  const m = a.metadata;
  if (m === undefined) return undefined;
  if (!m || typeof m !== "object") throw new ApiError("invalid_metadata_format");
  const md = m as { event_type?: unknown; event_payload?: unknown };
  if (typeof md.event_type !== "string") throw new ApiError("invalid_metadata_format");
  const payload = md.event_payload && typeof md.event_payload === "object" ? (md.event_payload as Record<string, unknown>) : {};
  return { event_type: md.event_type, event_payload: payload };
}

function botMessage(ctx: CallContext, channel: string, c: Content): EmuMessage {
  const o = ctx.opts;
  const m: EmuMessage = { channel, ts: ctx.state.clock.next(), user: o.botUserId, bot_id: o.botId, text: c.text };
  if (c.blocks) m.blocks = c.blocks;
  if (c.attachments) m.attachments = c.attachments;
  return m;
}

const truncatedWarning = (c: Content): Result =>
  c.truncated ? { warning: "message_truncated", response_metadata: { warnings: ["message_truncated"] } } : {};

function postMessage(ctx: CallContext, a: Args): Result {
  // "provide the user's ID as the channel value and a direct message conversation will be opened".
  const target = str(a.channel);
  const ch = target && /^[UW]/.test(target) && ctx.state.users.has(target) ? ctx.state.imFor(target) : ctx.conversation(a.channel);
  const content = messageContent(a, { required: true, maxText: MAX_TEXT, truncate: true });
  const metadata = messageMetadata(a);
  const m = botMessage(ctx, ch.id, content);
  const threadTs = str(a.thread_ts);
  if (threadTs) {
    m.thread_ts = threadTs;
    if (bool(a.reply_broadcast)) m.reply_broadcast = true;
    ctx.statuses.replied(ch.id, threadTs);
  }
  if (metadata) m.metadata = metadata;
  ctx.state.store(m);
  ctx.botPosted(m);
  return { ok: true, channel: ch.id, ts: m.ts, message: apiMessage(m, ctx.state), ...truncatedWarning(content) };
}

function update(ctx: CallContext, a: Args): Result {
  const ch = ctx.conversation(a.channel);
  const ts = str(a.ts);
  const m = ts ? ctx.state.find(ch.id, ts) : undefined;
  if (!m || !ts) throw new ApiError("message_not_found");
  if (m.bot_id !== ctx.opts.botId) throw new ApiError("cant_update_message");
  // "The message is currently streaming text and cannot be edited."
  if (ctx.streams.isStreaming(ch.id, ts)) throw new ApiError("streaming_state_conflict");
  const content = messageContent(a, { required: false, maxText: MAX_UPDATE_TEXT, truncate: false });
  if (typeof a.text === "string" || typeof a.markdown_text === "string") m.text = content.text;
  if (content.blocks) m.blocks = content.blocks;
  if (content.attachments) m.attachments = content.attachments;
  const md = messageMetadata(a);
  if (md) m.metadata = md;
  m.edited = { user: ctx.opts.botUserId, ts: ctx.state.clock.next() };
  ctx.state.notify(m, "updated");
  return { ok: true, channel: ch.id, ts: m.ts, text: m.text, message: apiMessage(m, ctx.state) };
}

function postEphemeral(ctx: CallContext, a: Args): Result {
  const ch = ctx.conversation(a.channel);
  const user = str(a.user);
  if (!user || !ctx.state.users.has(user)) throw new ApiError("user_not_found");
  if (!ch.members.has(user)) throw new ApiError("user_not_in_channel");
  const content = messageContent(a, { required: true, maxText: MAX_TEXT, truncate: false });
  const m = botMessage(ctx, ch.id, content);
  m.ephemeral = { user };
  const threadTs = str(a.thread_ts);
  if (threadTs) m.thread_ts = threadTs;
  ctx.state.store(m);
  return { ok: true, message_ts: m.ts };
}

function deleteMessage(ctx: CallContext, a: Args): Result {
  const ch = ctx.conversation(a.channel);
  const ts = str(a.ts);
  const m = ts ? ctx.state.find(ch.id, ts) : undefined;
  if (!m || !ts) throw new ApiError("message_not_found");
  if (m.bot_id !== ctx.opts.botId) throw new ApiError("cant_delete_message");
  ctx.state.remove(ch.id, ts);
  return { ok: true, channel: ch.id, ts };
}

function getPermalink(ctx: CallContext, a: Args): Result {
  const ch = ctx.conversation(a.channel);
  const ts = str(a.message_ts) ?? "";
  if (!ctx.state.find(ch.id, ts)) throw new ApiError("message_not_found");
  return { ok: true, channel: ch.id, permalink: `https://emulator.slack.com/archives/${ch.id}/p${ts.replace(".", "")}` };
}

// Scopes and membership errors from each method's page under https://docs.slack.dev/reference/methods/.
export const chatMethods: MethodTable = {
  "chat.postMessage": { scopes: ["chat:write"], nonMember: "not_in_channel", run: postMessage },
  "chat.update": { scopes: ["chat:write"], nonMember: "channel_not_found", run: update },
  "chat.postEphemeral": { scopes: ["chat:write"], nonMember: "not_in_channel", run: postEphemeral },
  "chat.delete": { scopes: ["chat:write"], nonMember: "channel_not_found", run: deleteMessage },
  "chat.getPermalink": { scopes: [], nonMember: "channel_not_found", run: getPermalink },
};
