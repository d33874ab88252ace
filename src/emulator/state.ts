// The workspace the emulator pretends to be: channels, users, messages, files.
import { compareTs, TsClock } from "./ids.ts";
import type { EmuChannel, EmuFile, EmuMessage, EmuUser } from "./types.ts";

export type MessageChange = "new" | "updated" | "deleted";
export type MessageListener = (m: EmuMessage, change: MessageChange) => void;

export class WorkspaceState {
  private readonly listeners = new Set<MessageListener>();
  readonly channels = new Map<string, EmuChannel>();
  readonly users = new Map<string, EmuUser>();
  /** Every stored message in creation order (ephemerals included; deleted ones removed). */
  readonly allMessages: EmuMessage[] = [];
  readonly files = new Map<string, EmuFile>();
  readonly clock = new TsClock();
  private imCounter = 0;

  constructor(readonly botUserId: string) {
    this.users.set(botUserId, { id: botUserId, name: "clawdbot", real_name: "clawdbot", is_bot: true });
  }

  ensureUser(id: string): EmuUser {
    let u = this.users.get(id);
    if (!u) {
      const name = id.toLowerCase();
      u = { id, name, real_name: `User ${id}`, is_bot: false };
      this.users.set(id, u);
    }
    return u;
  }

  addChannel(id: string, opts: { name?: string; members?: string[]; botMember?: boolean } = {}): EmuChannel {
    const existing = this.channels.get(id);
    const kind: EmuChannel["kind"] = id.startsWith("D") ? "im" : id.startsWith("G") ? "group" : "channel";
    const ch: EmuChannel = existing ?? {
      id,
      name: opts.name ?? (kind === "im" ? id : id.toLowerCase()),
      kind,
      members: new Set<string>(),
      botMember: opts.botMember ?? true,
      created: Math.floor(Date.now() / 1000),
    };
    if (existing && opts.name) ch.name = opts.name;
    if (existing && opts.botMember !== undefined) ch.botMember = opts.botMember;
    for (const m of opts.members ?? []) {
      ch.members.add(m);
      this.ensureUser(m);
    }
    if (ch.botMember) ch.members.add(this.botUserId);
    else ch.members.delete(this.botUserId);
    this.channels.set(id, ch);
    return ch;
  }

  /** Helpers accept any channel id and create it on first use, the bot a member. */
  ensureChannel(id: string, member?: string): EmuChannel {
    const ch = this.channels.get(id) ?? this.addChannel(id);
    if (member) ch.members.add(member);
    return ch;
  }

  /** One IM per user, like Slack. */
  imFor(userId: string): EmuChannel {
    this.ensureUser(userId);
    for (const ch of this.channels.values()) if (ch.kind === "im" && ch.imUser === userId) return ch;
    this.imCounter++;
    const id = `D${String(this.imCounter).padStart(8, "0")}${userId.replace(/[^A-Z0-9]/gi, "").slice(0, 2).toUpperCase()}`;
    const ch = this.addChannel(id, { members: [userId] });
    ch.imUser = userId;
    return ch;
  }

  store(msg: EmuMessage): EmuMessage {
    this.allMessages.push(msg);
    this.notify(msg, "new");
    return msg;
  }

  /** Lets the sandbox print messages as they happen instead of polling. */
  subscribe(l: MessageListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  notify(m: EmuMessage, change: MessageChange): void {
    for (const l of this.listeners) {
      try {
        l(m, change);
      } catch {
        // a listener's failure must not break the emulator
      }
    }
  }

  find(channel: string, ts: string): EmuMessage | undefined {
    return this.allMessages.find((m) => m.channel === channel && m.ts === ts && !m.ephemeral);
  }

  remove(channel: string, ts: string): EmuMessage | undefined {
    const i = this.allMessages.findIndex((m) => m.channel === channel && m.ts === ts && !m.ephemeral);
    if (i < 0) return undefined;
    const [m] = this.allMessages.splice(i, 1);
    if (m) this.notify(m, "deleted");
    return m;
  }

  /** Visible (non-ephemeral) messages of a channel, oldest first. */
  visible(channel: string): EmuMessage[] {
    return this.allMessages.filter((m) => m.channel === channel && !m.ephemeral).sort((a, b) => compareTs(a.ts, b.ts));
  }

  /** Top-level messages (what conversations.history lists), oldest first. */
  history(channel: string): EmuMessage[] {
    return this.visible(channel).filter((m) => !m.thread_ts || m.thread_ts === m.ts || m.reply_broadcast);
  }

  replies(channel: string, threadTs: string): EmuMessage[] {
    return this.visible(channel).filter((m) => m.ts === threadTs || m.thread_ts === threadTs);
  }
}

/** A message as the Web API shows it (history, replies, postMessage answers). */
export function apiMessage(m: EmuMessage, state: WorkspaceState, extra: { teamId: string; appId: string }): Record<string, unknown> {
  const out: Record<string, unknown> = { type: "message", ts: m.ts, text: m.text };
  if (m.user) out.user = m.user;
  if (m.bot_id) {
    out.bot_id = m.bot_id;
    out.app_id = extra.appId;
    out.bot_profile = { id: m.bot_id, app_id: extra.appId, name: "clawdbot", team_id: extra.teamId, deleted: false };
  }
  out.team = extra.teamId;
  if (m.blocks) out.blocks = m.blocks;
  if (m.attachments) out.attachments = m.attachments;
  if (m.metadata) out.metadata = m.metadata;
  if (m.edited) out.edited = m.edited;
  if (m.files) out.files = m.files;
  if (m.client_msg_id) out.client_msg_id = m.client_msg_id;
  if (m.thread_ts) {
    out.thread_ts = m.thread_ts;
    if (m.thread_ts !== m.ts) {
      const parent = state.find(m.channel, m.thread_ts);
      if (parent?.user) out.parent_user_id = parent.user;
      if (m.reply_broadcast) out.subtype = "thread_broadcast";
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
