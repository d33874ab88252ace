// reactions.add / reactions.remove on messages, as the bot.
// https://docs.slack.dev/reference/methods/reactions.add, .../reactions.remove
import type { EmuMessage } from "../types.ts";
import { ApiError, type Args, type CallContext, type MethodTable, type Result, str } from "./common.ts";

/** Emoji names as Slack writes them, without colons ("thumbsup", "+1", "white_check_mark::skin-tone-2"). */
const EMOJI_NAME = /^[a-z0-9_+'-]{1,100}(::skin-tone-[2-6])?$/;

function target(ctx: CallContext, a: Args): { m: EmuMessage; name: string } {
  const ts = str(a.timestamp);
  if (!str(a.channel) || !ts) throw new ApiError("no_item_specified");
  const ch = ctx.conversation(a.channel);
  if (!/^\d+\.\d+$/.test(ts)) throw new ApiError("bad_timestamp");
  const m = ctx.state.find(ch.id, ts);
  if (!m) throw new ApiError("message_not_found");
  const name = str(a.name);
  if (!name || !EMOJI_NAME.test(name)) throw new ApiError("invalid_name");
  return { m, name };
}

function add(ctx: CallContext, a: Args): Result {
  const { m, name } = target(ctx, a);
  const bot = ctx.opts.botUserId;
  m.reactions ??= [];
  let r = m.reactions.find((x) => x.name === name);
  if (r?.users.includes(bot)) throw new ApiError("already_reacted");
  if (!r) {
    r = { name, users: [], count: 0 };
    m.reactions.push(r);
  }
  r.users.push(bot);
  r.count = r.users.length;
  ctx.reactionLog.push({ action: "add", channel: m.channel, ts: m.ts, name, user: bot, at: Date.now() });
  return { ok: true };
}

function remove(ctx: CallContext, a: Args): Result {
  const { m, name } = target(ctx, a);
  const bot = ctx.opts.botUserId;
  const r = m.reactions?.find((x) => x.name === name);
  // "The specified reaction does not exist, or the requestor is not the original reaction author."
  if (!r?.users.includes(bot)) throw new ApiError("no_reaction");
  r.users = r.users.filter((u) => u !== bot);
  r.count = r.users.length;
  if (r.count === 0) m.reactions = m.reactions?.filter((x) => x !== r);
  ctx.reactionLog.push({ action: "remove", channel: m.channel, ts: m.ts, name, user: bot, at: Date.now() });
  return { ok: true };
}

export const reactionMethods: MethodTable = {
  "reactions.add": { scopes: ["reactions:write"], nonMember: "channel_not_found", run: add },
  "reactions.remove": { scopes: ["reactions:write"], nonMember: "channel_not_found", run: remove },
};
