// Objects as the Web API and events show them: messages, files, conversations.
import type { WorkspaceState } from "./state.ts";
import type { EmuChannel, EmuFile, EmuMessage } from "./types.ts";

const TYPES: Record<string, [mimetype: string, filetype: string, pretty: string]> = {
  txt: ["text/plain", "text", "Plain Text"],
  log: ["text/plain", "text", "Plain Text"],
  md: ["text/markdown", "markdown", "Markdown (raw)"],
  csv: ["text/csv", "csv", "CSV"],
  json: ["application/json", "json", "JSON"],
  js: ["text/javascript", "javascript", "JavaScript"],
  ts: ["text/typescript", "typescript", "TypeScript"],
  py: ["text/x-python", "python", "Python"],
  html: ["text/html", "html", "HTML"],
  png: ["image/png", "png", "PNG"],
  jpg: ["image/jpeg", "jpg", "JPEG"],
  jpeg: ["image/jpeg", "jpg", "JPEG"],
  gif: ["image/gif", "gif", "GIF"],
  pdf: ["application/pdf", "pdf", "PDF"],
  zip: ["application/zip", "zip", "Zip"],
};

export function fileType(name: string, mimetype?: string): { mimetype: string; filetype: string; pretty_type: string } {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? "";
  const t = TYPES[ext];
  return { mimetype: mimetype ?? t?.[0] ?? "application/octet-stream", filetype: t?.[1] ?? (ext || "binary"), pretty_type: t?.[2] ?? "Binary" };
}

/** url_private and url_private_download: served by the emulator, only with the bot token. */
export function fileUrls(state: WorkspaceState, f: EmuFile): { url_private: string; url_private_download: string } {
  const base = `${state.baseUrl}files-pri/${state.identity.teamId}-${f.id}`;
  const name = encodeURIComponent(f.name);
  return { url_private: `${base}/${name}`, url_private_download: `${base}/download/${name}` };
}

/** The file object (https://docs.slack.dev/reference/objects/file-object). */
export function fileObject(state: WorkspaceState, f: EmuFile): Record<string, unknown> {
  const created = f.created ?? Math.floor(Date.now() / 1000);
  return {
    id: f.id,
    created,
    timestamp: created,
    name: f.name,
    title: f.title ?? f.name,
    ...fileType(f.name, f.mimetype),
    user: f.user ?? state.botUserId,
    user_team: state.identity.teamId,
    editable: false,
    size: f.content.byteLength || f.length,
    mode: "hosted",
    is_external: false,
    external_type: "",
    is_public: false,
    public_url_shared: false,
    display_as_bot: false,
    username: "",
    ...fileUrls(state, f),
    permalink: `https://emulator.slack.com/files/${f.user ?? state.botUserId}/${f.id}/${encodeURIComponent(f.name)}`,
  };
}

export function messageFiles(state: WorkspaceState, m: EmuMessage): Record<string, unknown>[] | undefined {
  if (!m.files?.length) return undefined;
  return m.files.flatMap((id) => {
    const f = state.files.get(id);
    return f ? [fileObject(state, f)] : [];
  });
}

/** A message's subtype as Slack reports it. */
export function messageSubtype(m: EmuMessage): string | undefined {
  if (m.subtype) return m.subtype;
  if (m.reply_broadcast && m.thread_ts && m.thread_ts !== m.ts) return "thread_broadcast";
  return undefined;
}

/** A message as the Web API shows it (history, replies, postMessage answers). */
export function apiMessage(m: EmuMessage, state: WorkspaceState): Record<string, unknown> {
  const { teamId, appId } = state.identity;
  const out: Record<string, unknown> = { type: "message", ts: m.ts, text: m.text };
  const subtype = messageSubtype(m);
  if (subtype) out.subtype = subtype;
  if (m.user) out.user = m.user;
  if (m.bot_id) {
    out.bot_id = m.bot_id;
    out.app_id = appId;
    out.bot_profile = { id: m.bot_id, app_id: appId, name: "clawdbot", team_id: teamId, deleted: false };
  }
  out.team = teamId;
  if (m.blocks) out.blocks = m.blocks;
  if (m.attachments) out.attachments = m.attachments;
  if (m.metadata) out.metadata = m.metadata;
  if (m.edited) out.edited = m.edited;
  const files = messageFiles(state, m);
  if (files) {
    out.files = files;
    out.upload = false;
    out.display_as_bot = false;
  }
  if (m.reactions?.length) out.reactions = m.reactions.map((r) => ({ ...r, users: [...r.users] }));
  if (m.client_msg_id) out.client_msg_id = m.client_msg_id;
  if (m.thread_ts) {
    out.thread_ts = m.thread_ts;
    if (m.thread_ts !== m.ts) {
      const parent = state.find(m.channel, m.thread_ts);
      if (parent?.user) out.parent_user_id = parent.user;
    }
  }
  if (!m.thread_ts || m.thread_ts === m.ts) {
    const replies = state.replies(m.channel, m.ts).filter((r) => r.ts !== m.ts);
    if (replies.length > 0) {
      out.thread_ts = m.ts;
      out.reply_count = replies.length;
      out.reply_users = [...new Set(replies.map((r) => r.user).filter((u): u is string => !!u))];
      out.latest_reply = replies[replies.length - 1]?.ts;
    }
  }
  return out;
}

/** The conversation object (https://docs.slack.dev/reference/objects/conversation-object). */
export function conversationJson(ch: EmuChannel): Record<string, unknown> {
  const legacyGroup = ch.kind === "private" && ch.id.startsWith("G");
  const base: Record<string, unknown> = {
    id: ch.id,
    created: ch.created,
    is_archived: false,
    is_im: ch.kind === "im",
    is_mpim: ch.kind === "mpim",
    is_channel: ch.kind === "public" || (ch.kind === "private" && !legacyGroup),
    is_group: legacyGroup,
    is_private: ch.kind !== "public",
    is_member: ch.botMember,
  };
  if (ch.kind === "im") {
    base.user = ch.imUser;
    base.is_open = true;
  } else {
    base.name = ch.name;
    base.name_normalized = ch.name;
    base.num_members = ch.members.size;
  }
  return base;
}
