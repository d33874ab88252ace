// The workspace the emulator pretends to be: channels, users, messages, files.
import { compareTs, TsClock } from "./ids.ts";
import type { ChannelOptions, ConversationKind, EmuChannel, EmuFile, EmuMessage, EmuUser } from "./types.ts";

export type MessageChange = "new" | "updated" | "deleted";
export type MessageListener = (m: EmuMessage, change: MessageChange) => void;

/** Who the app is; every payload and API answer names it. */
export interface Identity {
  botUserId: string;
  botId: string;
  teamId: string;
  appId: string;
}

function kindFromId(id: string): ConversationKind {
  return id.startsWith("D") ? "im" : id.startsWith("G") ? "private" : "public";
}

export class WorkspaceState {
  private readonly listeners = new Set<MessageListener>();
  readonly channels = new Map<string, EmuChannel>();
  readonly users = new Map<string, EmuUser>();
  /** Every stored message in creation order (ephemerals included; deleted ones removed). */
  readonly allMessages: EmuMessage[] = [];
  readonly files = new Map<string, EmuFile>();
  readonly clock = new TsClock();
  /** The HTTP server's root (with trailing slash) once started: file URLs point there. */
  baseUrl = "http://127.0.0.1/";
  private imCounter = 0;

  constructor(readonly identity: Identity) {
    const id = identity.botUserId;
    this.users.set(id, { id, name: "clawdbot", real_name: "clawdbot", is_bot: true });
  }

  get botUserId(): string {
    return this.identity.botUserId;
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

  addChannel(id: string, opts: ChannelOptions = {}): EmuChannel {
    const existing = this.channels.get(id);
    const kind = opts.kind ?? existing?.kind ?? kindFromId(id);
    const ch: EmuChannel = existing ?? {
      id,
      name: opts.name ?? (kind === "im" ? id : id.toLowerCase()),
      kind,
      members: new Set<string>(),
      botMember: opts.botMember ?? true,
      created: Math.floor(Date.now() / 1000),
    };
    ch.kind = kind;
    if (existing && opts.name) ch.name = opts.name;
    if (existing && opts.botMember !== undefined) ch.botMember = opts.botMember;
    for (const m of opts.members ?? []) {
      ch.members.add(m);
      this.ensureUser(m);
    }
    if (ch.botMember) ch.members.add(this.botUserId);
    else ch.members.delete(this.botUserId);
    if (kind === "im" && ch.botMember) ch.imUser = [...ch.members].find((m) => m !== this.botUserId);
    this.channels.set(id, ch);
    return ch;
  }

  /** Helpers accept any channel id and create it on first use, the bot a member. */
  ensureChannel(id: string, member?: string): EmuChannel {
    const ch = this.channels.get(id) ?? this.addChannel(id);
    if (member) ch.members.add(member);
    if (ch.kind === "im" && ch.botMember && !ch.imUser && member !== this.botUserId) ch.imUser = member;
    return ch;
  }

  /** The bot's IM with a user: one per user, like Slack. */
  imFor(userId: string): EmuChannel {
    this.ensureUser(userId);
    for (const ch of this.channels.values()) if (ch.kind === "im" && ch.botMember && ch.imUser === userId) return ch;
    this.imCounter++;
    const id = `D${String(this.imCounter).padStart(8, "0")}${userId.replace(/[^A-Z0-9]/gi, "").slice(0, 2).toUpperCase()}`;
    return this.addChannel(id, { kind: "im", members: [userId] });
  }

  /** The group DM (mpim) of exactly these people and the bot, created on first use. */
  mpimFor(userIds: string[]): EmuChannel {
    const want = new Set([...userIds, this.botUserId]);
    for (const ch of this.channels.values()) {
      if (ch.kind === "mpim" && ch.members.size === want.size && [...want].every((u) => ch.members.has(u))) return ch;
    }
    this.imCounter++;
    const names = [...userIds].map((u) => this.ensureUser(u).name);
    return this.addChannel(`G${String(this.imCounter).padStart(8, "0")}MP`, {
      kind: "mpim",
      members: userIds,
      name: `mpdm-${[...names, "clawdbot"].join("--")}-1`,
    });
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

  parentUser(m: EmuMessage): string | undefined {
    return m.thread_ts && m.thread_ts !== m.ts ? this.find(m.channel, m.thread_ts)?.user : undefined;
  }
}
