// conversations.* and users.conversations, users.info. Scopes, arguments and errors from each
// method's page under https://docs.slack.dev/reference/methods/.
import { apiMessage, conversationJson } from "../api-json.ts";
import { compareTs } from "../ids.ts";
import { visibleToBot } from "../membership.ts";
import { HISTORY, READ } from "../scopes.ts";
import type { ConversationKind, EmuChannel } from "../types.ts";
import { ApiError, type Args, bool, type CallContext, type MethodTable, type Result, str } from "./common.ts";

const TS = /^\d+(\.\d+)?$/;

/** Slack's range filter: oldest/latest exclusive unless `inclusive`. */
function inRange(ts: string, a: Args): boolean {
  const inclusive = bool(a.inclusive);
  const oldest = str(a.oldest);
  const latest = str(a.latest);
  if (oldest && !TS.test(oldest)) throw new ApiError("invalid_ts_oldest");
  if (latest && !TS.test(latest)) throw new ApiError("invalid_ts_latest");
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

function page<T>(items: T[], a: Args, def: number): { items: T[]; hasMore: boolean; next: string } {
  const limit = Math.min(Math.max(Number(a.limit) || def, 1), 999);
  let offset = 0;
  const cursor = str(a.cursor);
  if (cursor) {
    const m = /^offset:(\d+)$/.exec(Buffer.from(cursor, "base64").toString("utf8"));
    if (!m) throw new ApiError("invalid_cursor");
    offset = Number(m[1]);
  }
  const slice = items.slice(offset, offset + limit);
  const hasMore = offset + limit < items.length;
  return { items: slice, hasMore, next: hasMore ? Buffer.from(`offset:${offset + limit}`).toString("base64") : "" };
}

function history(ctx: CallContext, a: Args): Result {
  const ch = ctx.conversation(a.channel);
  const msgs = ctx.state
    .history(ch.id)
    .filter((m) => inRange(m.ts, a))
    .reverse();
  const p = page(msgs, a, 100);
  return {
    ok: true,
    messages: p.items.map((m) => apiMessage(m, ctx.state)),
    has_more: p.hasMore,
    pin_count: 0,
    response_metadata: { next_cursor: p.next },
  };
}

function replies(ctx: CallContext, a: Args): Result {
  const ch = ctx.conversation(a.channel);
  const ts = str(a.ts);
  const m = ts ? ctx.state.find(ch.id, ts) : undefined;
  if (!m) throw new ApiError("thread_not_found");
  const [parent, ...rest] = ctx.state.replies(ch.id, m.thread_ts ?? m.ts);
  const filtered = [...(parent ? [parent] : []), ...rest.filter((r) => inRange(r.ts, a))];
  const p = page(filtered, a, 1000);
  return {
    ok: true,
    messages: p.items.map((x) => apiMessage(x, ctx.state)),
    has_more: p.hasMore,
    response_metadata: { next_cursor: p.next },
  };
}

/** The bot opening a DM (im:write) or a group DM (mpim:write) with users, or resuming one by id. */
function open(ctx: CallContext, a: Args): Result {
  if (str(a.channel)) return { ok: true, channel: conversationJson(ctx.conversation(a.channel)) };
  const users = (str(a.users) ?? "").split(",").map((u) => u.trim()).filter(Boolean);
  if (users.length === 0) throw new ApiError("users_list_not_supplied");
  if (users.length > 8) throw new ApiError("too_many_users");
  ctx.grants.need(users.length === 1 ? "im:write" : "mpim:write");
  for (const u of users) if (!ctx.state.users.has(u)) throw new ApiError("user_not_found");
  const find = (): EmuChannel | undefined =>
    [...ctx.state.channels.values()].find((c) =>
      users.length === 1
        ? c.kind === "im" && c.botMember && c.imUser === users[0]
        : c.kind === "mpim" && c.botMember && c.members.size === users.length + 1 && users.every((u) => c.members.has(u)),
    );
  const existed = find() !== undefined;
  if (!existed && bool(a.prevent_creation)) return { ok: true, no_op: true, channel: {} };
  const ch = users.length === 1 ? ctx.state.imFor(users[0] as string) : ctx.state.mpimFor(users);
  const channel = bool(a.return_im) || users.length > 1 ? conversationJson(ch) : { id: ch.id };
  return existed ? { ok: true, no_op: true, already_open: true, channel } : { ok: true, channel };
}

const TYPE_KINDS: Record<string, ConversationKind> = { public_channel: "public", private_channel: "private", mpim: "mpim", im: "im" };

/** conversations.list (everything the bot can see) and users.conversations (what it is in). */
function list(onlyMember: boolean) {
  return (ctx: CallContext, a: Args): Result => {
    const types = (str(a.types) ?? "public_channel").split(",").map((t) => t.trim());
    const kinds = new Set<ConversationKind>();
    for (const t of types) {
      const k = TYPE_KINDS[t];
      if (!k) throw new ApiError("invalid_types");
      ctx.grants.need(READ[k]);
      kinds.add(k);
    }
    const user = str(a.user);
    const chans = [...ctx.state.channels.values()].filter(
      (ch) => kinds.has(ch.kind) && visibleToBot(ch) && (!onlyMember || (user ? ch.members.has(user) : ch.botMember)),
    );
    const p = page(chans, a, 100);
    return { ok: true, channels: p.items.map(conversationJson), response_metadata: { next_cursor: p.next } };
  };
}

function info(ctx: CallContext, a: Args): Result {
  return { ok: true, channel: conversationJson(ctx.conversation(a.channel)) };
}

function members(ctx: CallContext, a: Args): Result {
  const p = page([...ctx.conversation(a.channel).members], a, 100);
  return { ok: true, members: p.items, response_metadata: { next_cursor: p.next } };
}

function join(ctx: CallContext, a: Args): Result {
  const ch = ctx.conversation(a.channel);
  if (ch.kind !== "public") throw new ApiError("method_not_supported_for_channel_type");
  ch.botMember = true;
  ch.members.add(ctx.opts.botUserId);
  return { ok: true, channel: conversationJson(ch) };
}

function usersInfo(ctx: CallContext, a: Args): Result {
  const id = str(a.user);
  const u = id ? ctx.state.users.get(id) : undefined;
  if (!u) throw new ApiError("user_not_found");
  return {
    ok: true,
    user: {
      id: u.id,
      team_id: ctx.opts.teamId,
      name: u.name,
      real_name: u.real_name,
      deleted: u.deleted ?? false,
      is_bot: u.is_bot,
      is_admin: false,
      tz: "UTC",
      tz_offset: 0,
      profile: { real_name: u.real_name, display_name: u.name, bot_id: u.is_bot ? ctx.opts.botId : undefined },
    },
  };
}

export const conversationMethods: MethodTable = {
  "conversations.history": { scopes: HISTORY, nonMember: "not_in_channel", run: history },
  "conversations.replies": { scopes: HISTORY, nonMember: "channel_not_found", run: replies },
  "conversations.info": { scopes: READ, nonMember: "visible", run: info },
  "conversations.members": { scopes: READ, nonMember: "visible", run: members },
  "conversations.open": { scopes: { public: "channels:manage", private: "groups:write", im: "im:write", mpim: "mpim:write" }, run: open },
  "conversations.join": { scopes: ["channels:join"], nonMember: "visible", run: join },
  "conversations.list": { scopes: READ, run: list(false) },
  "users.conversations": { scopes: READ, run: list(true) },
  "users.info": { scopes: ["users:read"], run: usersInfo },
};
