// The Web API: POST {apiUrl}<method>, answering like Slack (HTTP 200 + {ok:false,error} for
// platform errors; 429/5xx only when a fault asks for it).
import type { FaultRegistry } from "./faults.ts";
import { compareTs } from "./ids.ts";
import { apiMessage, type WorkspaceState } from "./state.ts";
import type { ApiCall, EmuChannel, EmuMessage, MessageMetadata, ResolvedOptions } from "./types.ts";

/** Form fields that carry JSON (the WebClient serialises objects and arrays). */
const JSON_FIELDS = new Set(["blocks", "attachments", "metadata", "files", "unfurl", "user_auth_blocks"]);

export const MAX_TEXT = 40000;

export interface WebApiContext {
  opts: ResolvedOptions;
  state: WorkspaceState;
  faults: FaultRegistry;
  calls: ApiCall[];
  /** Base URL of the HTTP server, with trailing slash. */
  baseUrl(): string;
  /** ws:// URL a fresh connection should use. */
  socketUrl(): string;
  /** A message the bot created that Slack would echo as an event. */
  botPosted(m: EmuMessage): void;
  /** Answers that never come (executeThenHang) are released here on stop. */
  hangs: Set<() => void>;
}

class ApiError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

type Result = Record<string, unknown>;

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

export async function parseArgs(req: Request): Promise<Record<string, unknown>> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URL(req.url).searchParams) args[k] = v;
  const ct = req.headers.get("content-type") ?? "";
  if (ct.includes("application/json")) {
    const body: unknown = await req.json().catch(() => ({}));
    if (body && typeof body === "object") Object.assign(args, body);
  } else if (ct.includes("multipart/form-data")) {
    const fd = await req.formData();
    for (const [k, v] of fd) if (typeof v === "string") args[k] = v;
  } else {
    for (const [k, v] of new URLSearchParams(await req.text())) args[k] = v;
  }
  for (const k of JSON_FIELDS) {
    const v = args[k];
    if (typeof v === "string" && /^\s*[[{]/.test(v)) {
      try {
        args[k] = JSON.parse(v);
      } catch {
        // Slack would answer invalid_arguments; leaving the string makes the mistake visible.
      }
    }
  }
  return args;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);
const bool = (v: unknown): boolean => v === true || v === "true" || v === "1" || v === 1;

export class WebApi {
  constructor(private readonly ctx: WebApiContext) {}

  async handle(req: Request, method: string): Promise<Response> {
    const args = await parseArgs(req);
    const header = req.headers.get("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : str(args.token);
    delete args.token;
    const call: ApiCall = { method, args, at: Date.now(), status: 0, response: undefined };
    this.ctx.calls.push(call);
    const answer = (body: Result, status = 200, headers: Record<string, string> = {}): Response => {
      call.status = status;
      call.response = body;
      return json(body, status, headers);
    };

    const authError = this.checkAuth(method, token);
    if (authError) return answer({ ok: false, error: authError });

    const fault = this.ctx.faults.take(method, args);
    if (fault?.latencyMs) await Bun.sleep(fault.latencyMs);
    if (fault?.status === 429) {
      const ra = fault.retryAfter ?? 1;
      return answer({ ok: false, error: "ratelimited" }, 429, { "Retry-After": String(ra) });
    }
    if (fault?.status) return answer({ ok: false, error: "fatal_error" }, fault.status);
    if (fault?.error) return answer({ ok: false, error: fault.error });

    let body: Result;
    try {
      body = await this.dispatch(method, args);
    } catch (e) {
      if (e instanceof ApiError) body = { ok: false, error: e.code };
      else throw e;
    }
    if (fault?.executeThenHang) {
      call.response = body; // performed, but the client never hears of it
      return new Promise<Response>((resolve) => {
        const release = () => resolve(json(body, 200));
        this.ctx.hangs.add(release);
      });
    }
    if (method === "apps.connections.open" && body.ok === true) {
      const failure = this.ctx.faults.takeConnectionsOpenFailure();
      if (failure === "http500") return answer({ ok: false, error: "internal_error" }, 500);
      if (failure) return answer({ ok: false, error: failure.error });
    }
    return answer(body);
  }

  private checkAuth(method: string, token: string | undefined): string | undefined {
    if (!token) return "not_authed";
    if (this.ctx.faults.revoked) return "invalid_auth";
    const { botToken, appToken } = this.ctx.opts;
    if (token !== botToken && token !== appToken) return "invalid_auth";
    if (method === "apps.connections.open") return token === appToken ? undefined : "not_allowed_token_type";
    if (method === "auth.test") return undefined;
    return token === botToken ? undefined : "not_allowed_token_type";
  }

  private dispatch(method: string, a: Record<string, unknown>): Result | Promise<Result> {
    switch (method) {
      case "auth.test":
        return this.authTest();
      case "apps.connections.open":
        return { ok: true, url: this.ctx.socketUrl() };
      case "chat.postMessage":
        return this.postMessage(a);
      case "chat.update":
        return this.update(a);
      case "chat.postEphemeral":
        return this.postEphemeral(a);
      case "chat.delete":
        return this.deleteMessage(a);
      case "conversations.history":
        return this.history(a);
      case "conversations.replies":
        return this.replies(a);
      case "conversations.open":
        return this.open(a);
      case "conversations.info":
        return { ok: true, channel: this.channelJson(this.channel(a.channel)) };
      case "conversations.members":
        return { ok: true, members: [...this.channel(a.channel).members], response_metadata: { next_cursor: "" } };
      case "conversations.list":
        return this.list(a, false);
      case "users.conversations":
        return this.list(a, true);
      case "users.info":
        return this.usersInfo(a);
      case "files.getUploadURLExternal":
        return this.getUploadUrl(a);
      case "files.completeUploadExternal":
        return this.completeUpload(a);
      case "reactions.add":
      case "reactions.remove":
        return { ok: true };
      case "chat.getPermalink": {
        const ch = this.channel(a.channel);
        const ts = str(a.message_ts) ?? "";
        if (!this.ctx.state.find(ch.id, ts)) throw new ApiError("message_not_found");
        return { ok: true, channel: ch.id, permalink: `https://emulator.slack.com/archives/${ch.id}/p${ts.replace(".", "")}` };
      }
      case "conversations.join": {
        const ch = this.channel(a.channel);
        ch.botMember = true;
        ch.members.add(this.ctx.opts.botUserId);
        return { ok: true, channel: this.channelJson(ch) };
      }
      case "api.test":
        return { ok: true, args: a };
      default:
        throw new ApiError("unknown_method");
    }
  }

  private authTest(): Result {
    const o = this.ctx.opts;
    return {
      ok: true,
      url: "https://emulator.slack.com/",
      team: "Emulator",
      user: "clawdbot",
      team_id: o.teamId,
      user_id: o.botUserId,
      bot_id: o.botId,
      is_enterprise_install: false,
    };
  }

  private channel(id: unknown): EmuChannel {
    const s = str(id);
    if (!s) throw new ApiError("channel_not_found");
    // Posting to a user id opens (or reuses) the IM, as Slack does.
    if (/^[UW]/.test(s)) {
      if (!this.ctx.state.users.has(s)) throw new ApiError("channel_not_found");
      return this.ctx.state.imFor(s);
    }
    const ch = this.ctx.state.channels.get(s);
    if (!ch) throw new ApiError("channel_not_found");
    return ch;
  }

  private apiMsg(m: EmuMessage): Result {
    return apiMessage(m, this.ctx.state, { teamId: this.ctx.opts.teamId, appId: this.ctx.opts.appId });
  }

  private content(a: Record<string, unknown>, required: boolean): { text: string; blocks?: unknown[]; attachments?: unknown[] } {
    const text = typeof a.text === "string" ? a.text : "";
    const blocks = Array.isArray(a.blocks) ? a.blocks : undefined;
    const attachments = Array.isArray(a.attachments) ? a.attachments : undefined;
    if (required && !text && !blocks?.length && !attachments?.length) throw new ApiError("no_text");
    if (text.length > MAX_TEXT) throw new ApiError("msg_too_long");
    if (blocks && blocks.length > 50) throw new ApiError("invalid_blocks");
    return { text, blocks, attachments };
  }

  private metadata(a: Record<string, unknown>): MessageMetadata | undefined {
    const m = a.metadata;
    if (!m || typeof m !== "object") return undefined;
    const md = m as { event_type?: unknown; event_payload?: unknown };
    if (typeof md.event_type !== "string") throw new ApiError("invalid_metadata_format");
    const payload = md.event_payload && typeof md.event_payload === "object" ? (md.event_payload as Record<string, unknown>) : {};
    return { event_type: md.event_type, event_payload: payload };
  }

  private postMessage(a: Record<string, unknown>): Result {
    const ch = this.channel(a.channel);
    if (ch.kind !== "im" && !ch.botMember) throw new ApiError("not_in_channel");
    const content = this.content(a, true);
    const metadata = this.metadata(a);
    const o = this.ctx.opts;
    const m: EmuMessage = { channel: ch.id, ts: this.ctx.state.clock.next(), user: o.botUserId, bot_id: o.botId, ...content };
    if (!m.blocks) delete m.blocks;
    if (!m.attachments) delete m.attachments;
    const threadTs = str(a.thread_ts);
    if (threadTs) {
      m.thread_ts = threadTs;
      if (bool(a.reply_broadcast)) m.reply_broadcast = true;
    }
    if (metadata) m.metadata = metadata;
    this.ctx.state.store(m);
    this.ctx.botPosted(m);
    return { ok: true, channel: ch.id, ts: m.ts, message: this.apiMsg(m) };
  }

  private update(a: Record<string, unknown>): Result {
    const ch = this.channel(a.channel);
    const ts = str(a.ts);
    const m = ts ? this.ctx.state.find(ch.id, ts) : undefined;
    if (!m) throw new ApiError("message_not_found");
    if (m.bot_id !== this.ctx.opts.botId) throw new ApiError("cant_update_message");
    const content = this.content(a, false);
    if (typeof a.text === "string") m.text = content.text;
    if (content.blocks) m.blocks = content.blocks;
    if (content.attachments) m.attachments = content.attachments;
    const md = this.metadata(a);
    if (md) m.metadata = md;
    m.edited = { user: this.ctx.opts.botUserId, ts: this.ctx.state.clock.next() };
    this.ctx.state.notify(m, "updated");
    return { ok: true, channel: ch.id, ts: m.ts, text: m.text, message: this.apiMsg(m) };
  }

  private postEphemeral(a: Record<string, unknown>): Result {
    const ch = this.channel(a.channel);
    const user = str(a.user);
    if (!user) throw new ApiError("user_not_found");
    const content = this.content(a, true);
    const o = this.ctx.opts;
    const m: EmuMessage = {
      channel: ch.id,
      ts: this.ctx.state.clock.next(),
      user: o.botUserId,
      bot_id: o.botId,
      ...content,
      ephemeral: { user },
    };
    if (!m.blocks) delete m.blocks;
    if (!m.attachments) delete m.attachments;
    const threadTs = str(a.thread_ts);
    if (threadTs) m.thread_ts = threadTs;
    this.ctx.state.store(m);
    return { ok: true, message_ts: m.ts };
  }

  private deleteMessage(a: Record<string, unknown>): Result {
    const ch = this.channel(a.channel);
    const ts = str(a.ts);
    const m = ts ? this.ctx.state.find(ch.id, ts) : undefined;
    if (!m || !ts) throw new ApiError("message_not_found");
    if (m.bot_id !== this.ctx.opts.botId) throw new ApiError("cant_delete_message");
    this.ctx.state.remove(ch.id, ts);
    return { ok: true, channel: ch.id, ts };
  }

  /** Slack's range filter: oldest/latest exclusive unless `inclusive`. */
  private inRange(ts: string, a: Record<string, unknown>): boolean {
    const inclusive = bool(a.inclusive);
    const oldest = str(a.oldest);
    const latest = str(a.latest);
    if (oldest && oldest !== "0") {
      const c = compareTs(ts, oldest);
      if (c < 0 || (c === 0 && !inclusive)) return false;
    }
    if (latest) {
      const c = compareTs(ts, latest);
      if (c > 0 || (c === 0 && !inclusive)) return false;
    }
    return true;
  }

  private page<T>(items: T[], a: Record<string, unknown>, def: number): { items: T[]; hasMore: boolean; next: string } {
    const limit = Math.min(Math.max(Number(a.limit) || def, 1), 999);
    let offset = 0;
    const cursor = str(a.cursor);
    if (cursor) {
      const decoded = Buffer.from(cursor, "base64").toString("utf8");
      const m = /^offset:(\d+)$/.exec(decoded);
      if (!m) throw new ApiError("invalid_cursor");
      offset = Number(m[1]);
    }
    const slice = items.slice(offset, offset + limit);
    const hasMore = offset + limit < items.length;
    return { items: slice, hasMore, next: hasMore ? Buffer.from(`offset:${offset + limit}`).toString("base64") : "" };
  }

  private history(a: Record<string, unknown>): Result {
    const ch = this.channel(a.channel);
    const msgs = this.ctx.state
      .history(ch.id)
      .filter((m) => this.inRange(m.ts, a))
      .reverse();
    const p = this.page(msgs, a, 100);
    return {
      ok: true,
      messages: p.items.map((m) => this.apiMsg(m)),
      has_more: p.hasMore,
      pin_count: 0,
      response_metadata: { next_cursor: p.next },
    };
  }

  private replies(a: Record<string, unknown>): Result {
    const ch = this.channel(a.channel);
    const ts = str(a.ts);
    const m = ts ? this.ctx.state.find(ch.id, ts) : undefined;
    if (!m) throw new ApiError("thread_not_found");
    const root = m.thread_ts ?? m.ts;
    const all = this.ctx.state.replies(ch.id, root);
    const [parent, ...rest] = all;
    const filtered = [...(parent ? [parent] : []), ...rest.filter((r) => this.inRange(r.ts, a))];
    const p = this.page(filtered, a, 1000);
    return {
      ok: true,
      messages: p.items.map((x) => this.apiMsg(x)),
      has_more: p.hasMore,
      response_metadata: { next_cursor: p.next },
    };
  }

  private open(a: Record<string, unknown>): Result {
    if (str(a.channel)) return { ok: true, channel: this.channelJson(this.channel(a.channel)) };
    const users = (str(a.users) ?? "").split(",").map((u) => u.trim()).filter(Boolean);
    const user = users[0];
    if (!user) throw new ApiError("users_list_not_supplied");
    if (!this.ctx.state.users.has(user)) throw new ApiError("user_not_found");
    const existed = [...this.ctx.state.channels.values()].some((c) => c.kind === "im" && c.imUser === user);
    const ch = this.ctx.state.imFor(user);
    const channel = bool(a.return_im) ? this.channelJson(ch) : { id: ch.id };
    return { ok: true, no_op: existed, already_open: existed, channel };
  }

  private channelJson(ch: EmuChannel): Result {
    const base: Result = {
      id: ch.id,
      created: ch.created,
      is_archived: false,
      is_im: ch.kind === "im",
      is_channel: ch.kind === "channel",
      is_group: ch.kind === "group",
      is_private: ch.kind !== "channel",
      is_mpim: false,
      is_member: ch.kind === "im" || ch.botMember,
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

  private list(a: Record<string, unknown>, onlyMember: boolean): Result {
    const types = new Set((str(a.types) ?? "public_channel").split(",").map((t) => t.trim()));
    const want = (ch: EmuChannel): boolean =>
      (ch.kind === "channel" && types.has("public_channel")) ||
      (ch.kind === "group" && types.has("private_channel")) ||
      (ch.kind === "im" && types.has("im"));
    const chans = [...this.ctx.state.channels.values()].filter(
      (ch) => want(ch) && (!onlyMember || ch.kind === "im" || ch.botMember),
    );
    const p = this.page(chans, a, 100);
    return { ok: true, channels: p.items.map((c) => this.channelJson(c)), response_metadata: { next_cursor: p.next } };
  }

  private usersInfo(a: Record<string, unknown>): Result {
    const id = str(a.user);
    const u = id ? this.ctx.state.users.get(id) : undefined;
    if (!u) throw new ApiError("user_not_found");
    return {
      ok: true,
      user: {
        id: u.id,
        team_id: this.ctx.opts.teamId,
        name: u.name,
        real_name: u.real_name,
        deleted: false,
        is_bot: u.is_bot,
        is_admin: false,
        tz: "UTC",
        tz_offset: 0,
        profile: { real_name: u.real_name, display_name: u.name, bot_id: u.is_bot ? this.ctx.opts.botId : undefined },
      },
    };
  }

  private getUploadUrl(a: Record<string, unknown>): Result {
    const name = str(a.filename);
    const length = Number(a.length);
    if (!name) throw new ApiError("invalid_arguments");
    if (!Number.isFinite(length) || length < 0) throw new ApiError("invalid_arguments");
    const id = `F${crypto.randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`;
    this.ctx.state.files.set(id, { id, name, length, content: new Uint8Array(0), completed: false });
    return { ok: true, upload_url: `${this.ctx.baseUrl()}upload/${id}`, file_id: id };
  }

  private completeUpload(a: Record<string, unknown>): Result {
    const list = Array.isArray(a.files) ? (a.files as { id?: string; title?: string }[]) : undefined;
    if (!list?.length) throw new ApiError("invalid_arguments");
    const files = list.map((f) => {
      const file = f.id ? this.ctx.state.files.get(f.id) : undefined;
      if (!file) throw new ApiError("file_not_found");
      return { file, title: f.title };
    });
    const channelId = str(a.channel_id) ?? str(a.channels)?.split(",")[0];
    const ch = channelId ? this.channel(channelId) : undefined;
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
      const o = this.ctx.opts;
      const m: EmuMessage = {
        channel: ch.id,
        ts: this.ctx.state.clock.next(),
        user: o.botUserId,
        bot_id: o.botId,
        text: comment ?? "",
        files: files.map(({ file }) => ({ id: file.id, name: file.name, title: file.title })),
      };
      if (threadTs) m.thread_ts = threadTs;
      this.ctx.state.store(m);
      this.ctx.botPosted(m);
    }
    return { ok: true, files: files.map(({ file }) => ({ id: file.id, title: file.title ?? file.name, name: file.name })) };
  }
}
