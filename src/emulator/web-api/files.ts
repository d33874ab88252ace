// files.getUploadURLExternal + the upload + files.completeUploadExternal (what uploadV2 does).
// https://docs.slack.dev/reference/methods/files.getUploadURLExternal, .../files.completeUploadExternal
import type { EmuFile, EmuMessage } from "../types.ts";
import { ApiError, type Args, type CallContext, type MethodTable, type Result, str } from "./common.ts";

export function newFileId(): string {
  return `F${crypto.randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`;
}

function getUploadUrl(ctx: CallContext, a: Args): Result {
  const name = str(a.filename);
  const length = Number(a.length);
  if (!name || a.length === undefined || !Number.isFinite(length) || length < 0) throw new ApiError("invalid_arguments");
  // "missing_argument: Typically only occurs when the length provided is 0."
  if (length === 0) throw new ApiError("missing_argument");
  const id = newFileId();
  ctx.state.files.set(id, { id, name, length, content: new Uint8Array(0), completed: false, user: ctx.opts.botUserId });
  return { ok: true, upload_url: `${ctx.baseUrl()}upload/${id}`, file_id: id };
}

function completeUpload(ctx: CallContext, a: Args): Result {
  const list = Array.isArray(a.files) ? (a.files as { id?: string; title?: string }[]) : undefined;
  if (!list?.length) throw new ApiError("invalid_arguments");
  const files = list.map((f) => {
    const file = f.id ? ctx.state.files.get(f.id) : undefined;
    if (!file) throw new ApiError("file_not_found");
    return { file, title: f.title };
  });
  const channelId = str(a.channel_id) ?? str(a.channels)?.split(",")[0];
  const ch = channelId ? ctx.conversation(channelId) : undefined;
  const threadTs = str(a.thread_ts);
  const comment = str(a.initial_comment);
  for (const { file, title } of files) {
    file.completed = true;
    if (title) file.title = title;
    if (ch) file.channel = ch.id;
    if (threadTs) file.thread_ts = threadTs;
    if (comment) file.initial_comment = comment;
  }
  if (ch) {
    const o = ctx.opts;
    const m: EmuMessage = {
      channel: ch.id,
      ts: ctx.state.clock.next(),
      user: o.botUserId,
      bot_id: o.botId,
      text: comment ?? "",
      files: files.map(({ file }) => file.id),
    };
    if (threadTs) m.thread_ts = threadTs;
    ctx.state.store(m);
    ctx.botPosted(m);
  }
  return { ok: true, files: files.map(({ file }: { file: EmuFile }) => ({ id: file.id, title: file.title ?? file.name, name: file.name })) };
}

export const fileMethods: MethodTable = {
  "files.getUploadURLExternal": { scopes: ["files:write"], run: getUploadUrl },
  "files.completeUploadExternal": { scopes: ["files:write"], nonMember: "not_in_channel", run: completeUpload },
};
