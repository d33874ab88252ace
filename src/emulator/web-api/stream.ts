// chat.startStream, chat.appendStream, chat.stopStream: one message that grows, then is finished.
// Arguments and errors from https://docs.slack.dev/reference/methods/chat.startStream,
// .../chat.appendStream and .../chat.stopStream.
import { apiMessage } from "../api-json.ts";
import { checkBlocks, checkMarkdownText, MAX_TEXT } from "../limits.ts";
import type { StreamRecord } from "../streams.ts";
import type { EmuChannel, EmuMessage } from "../types.ts";
import { messageMetadata } from "./chat.ts";
import { ApiError, type Args, type CallContext, type MethodTable, type Result, str } from "./common.ts";

/** markdown_text plus the text of any markdown_text chunks; invalid_chunks for a malformed `chunks`. */
function incoming(a: Args): string {
  const refusal = checkMarkdownText(a.markdown_text);
  if (refusal) throw ApiError.refusal(refusal);
  let text = typeof a.markdown_text === "string" ? a.markdown_text : "";
  if (a.chunks !== undefined) {
    if (!Array.isArray(a.chunks)) throw new ApiError("invalid_chunks");
    for (const c of a.chunks) {
      if (!c || typeof c !== "object" || typeof (c as { type?: unknown }).type !== "string") throw new ApiError("invalid_chunks");
      const chunk = c as { type: string; text?: unknown };
      if (chunk.type === "markdown_text") {
        if (typeof chunk.text !== "string") throw new ApiError("invalid_chunks");
        const r = checkMarkdownText(chunk.text);
        if (r) throw ApiError.refusal(r);
        text += chunk.text;
      }
    }
  }
  return text;
}

/** The streamed message and its record, if it can still be written to. */
function streaming(ctx: CallContext, a: Args): { ch: EmuChannel; m: EmuMessage; rec: StreamRecord } {
  const ch = ctx.conversation(a.channel);
  const ts = str(a.ts);
  const m = ts ? ctx.state.find(ch.id, ts) : undefined;
  if (!m || !ts) throw new ApiError("message_not_found");
  if (m.bot_id !== ctx.opts.botId) throw new ApiError("message_not_owned_by_app");
  const rec = ctx.streams.get(ch.id, ts);
  if (rec?.state === "stopped_by_user") throw new ApiError("stopped_by_user");
  if (rec?.state !== "streaming") throw new ApiError("message_not_in_streaming_state");
  return { ch, m, rec };
}

/** Adds a chunk; the message text stays within 40,000 (message_truncated, as chat.postMessage). */
function grow(m: EmuMessage, rec: StreamRecord, chunk: string): Result {
  if (chunk) rec.chunks.push(chunk);
  const full = rec.text + chunk;
  rec.text = full.slice(0, MAX_TEXT);
  m.text = rec.text;
  return full.length > MAX_TEXT ? { warning: "message_truncated", response_metadata: { warnings: ["message_truncated"] } } : {};
}

function startStream(ctx: CallContext, a: Args): Result {
  const ch = ctx.conversation(a.channel);
  const recipient = str(a.recipient_user_id);
  const team = str(a.recipient_team_id);
  // "Required when streaming to channels" (not in a DM).
  if (ch.kind !== "im") {
    if (!recipient) throw new ApiError("missing_recipient_user_id");
    if (!team) throw new ApiError("missing_recipient_team_id");
  }
  if (recipient && !ctx.state.users.has(recipient)) throw new ApiError("user_not_found");
  const text = incoming(a);
  const o = ctx.opts;
  const m: EmuMessage = { channel: ch.id, ts: ctx.state.clock.next(), user: o.botUserId, bot_id: o.botId, text: "" };
  const threadTs = str(a.thread_ts);
  if (threadTs) m.thread_ts = threadTs;
  const rec: StreamRecord = { channel: ch.id, ts: m.ts, state: "streaming", chunks: [], text: "", startedAt: Date.now() };
  if (threadTs) rec.thread_ts = threadTs;
  if (recipient) rec.recipient_user_id = recipient;
  if (team) rec.recipient_team_id = team;
  const warning = grow(m, rec, text);
  ctx.streams.records.push(rec);
  ctx.state.store(m);
  ctx.botPosted(m);
  return { ok: true, channel: ch.id, ts: m.ts, ...warning };
}

function appendStream(ctx: CallContext, a: Args): Result {
  const { ch, m, rec } = streaming(ctx, a);
  const text = incoming(a);
  if (!text) throw new ApiError("no_text");
  const warning = grow(m, rec, text);
  ctx.state.notify(m, "updated");
  return { ok: true, channel: ch.id, ts: m.ts, ...warning };
}

function stopStream(ctx: CallContext, a: Args): Result {
  const { ch, m, rec } = streaming(ctx, a);
  const text = incoming(a);
  const refusal = checkBlocks(a.blocks, "msg_blocks_too_many");
  if (refusal) throw ApiError.refusal(refusal);
  const metadata = messageMetadata(a);
  if (Array.isArray(a.blocks)) m.blocks = a.blocks;
  if (metadata) m.metadata = metadata;
  const warning = grow(m, rec, text);
  rec.state = "stopped";
  rec.stoppedAt = Date.now();
  if (rec.thread_ts) ctx.statuses.replied(ch.id, rec.thread_ts);
  ctx.state.notify(m, "updated");
  return { ok: true, channel: ch.id, ts: m.ts, message: apiMessage(m, ctx.state), ...warning };
}

export const streamMethods: MethodTable = {
  "chat.startStream": { scopes: ["chat:write"], nonMember: "not_in_channel", run: startStream },
  "chat.appendStream": { scopes: ["chat:write"], nonMember: "not_in_channel", run: appendStream },
  "chat.stopStream": { scopes: ["chat:write"], nonMember: "not_in_channel", run: stopStream },
};
