// Payloads in the shapes Slack sends them (Events API, slash commands, block_actions).
import { messageFiles, messageSubtype } from "./api-json.ts";
import { eventId, randomAlnum } from "./ids.ts";
import type { Identity, WorkspaceState } from "./state.ts";
import type { EmuChannel, EmuMessage, EmuUser } from "./types.ts";

export type { Identity } from "./state.ts";

export const VERIFICATION_TOKEN = "emulator-verification-token";

/** The event's `channel_type`: channel (public), group (private), im, mpim. */
export function channelType(ch: EmuChannel | undefined): string {
  if (!ch) return "channel";
  return { public: "channel", private: "group", im: "im", mpim: "mpim" }[ch.kind];
}

/** The bot event a message in this conversation comes as (https://docs.slack.dev/reference/events). */
export function messageEventName(ch: EmuChannel): string {
  return { public: "message.channels", private: "message.groups", im: "message.im", mpim: "message.mpim" }[ch.kind];
}

export function eventCallback(id: Identity, event: Record<string, unknown>, evId?: string): Record<string, unknown> {
  const eventTs = typeof event.event_ts === "string" ? event.event_ts : undefined;
  return {
    token: VERIFICATION_TOKEN,
    team_id: id.teamId,
    context_team_id: id.teamId,
    context_enterprise_id: null,
    api_app_id: id.appId,
    event,
    type: "event_callback",
    event_id: evId ?? eventId(),
    event_time: eventTs ? Math.floor(Number(eventTs)) : Math.floor(Date.now() / 1000),
    authorizations: [
      { enterprise_id: null, team_id: id.teamId, user_id: id.botUserId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomAlnum(40)}`,
  };
}

/** The `message` event for a stored message (user or bot). */
export function messageEvent(state: WorkspaceState, m: EmuMessage): Record<string, unknown> {
  const id = state.identity;
  const ev: Record<string, unknown> = {
    type: "message",
    channel: m.channel,
    user: m.user,
    text: m.text,
    ts: m.ts,
    event_ts: m.ts,
    channel_type: channelType(state.channels.get(m.channel)),
    team: id.teamId,
  };
  const subtype = messageSubtype(m);
  if (subtype) ev.subtype = subtype;
  const files = messageFiles(state, m);
  if (files) {
    ev.files = files;
    ev.upload = false;
    ev.display_as_bot = false;
  }
  const parentUser = state.parentUser(m);
  if (m.client_msg_id) ev.client_msg_id = m.client_msg_id;
  if (m.thread_ts) ev.thread_ts = m.thread_ts;
  if (m.thread_ts && m.thread_ts !== m.ts && parentUser) ev.parent_user_id = parentUser;
  if (m.blocks) ev.blocks = m.blocks;
  if (m.metadata) ev.metadata = m.metadata;
  if (m.bot_id) {
    ev.bot_id = m.bot_id;
    ev.app_id = id.appId;
    ev.bot_profile = { id: m.bot_id, app_id: id.appId, name: "clawdbot", team_id: id.teamId, deleted: false };
  }
  return ev;
}

export function appMentionEvent(state: WorkspaceState, m: EmuMessage): Record<string, unknown> {
  const id = state.identity;
  const ev: Record<string, unknown> = {
    type: "app_mention",
    user: m.user,
    text: m.text,
    ts: m.ts,
    channel: m.channel,
    event_ts: m.ts,
    team: id.teamId,
    client_msg_id: m.client_msg_id,
  };
  if (m.thread_ts) ev.thread_ts = m.thread_ts;
  const files = messageFiles(state, m);
  if (files) ev.files = files;
  return ev;
}

export function slashPayload(
  id: Identity,
  user: EmuUser,
  ch: EmuChannel,
  command: string,
  text: string,
  responseUrl: string,
): Record<string, string> {
  return {
    token: VERIFICATION_TOKEN,
    team_id: id.teamId,
    team_domain: "emulator",
    channel_id: ch.id,
    channel_name: ch.kind === "im" ? "directmessage" : ch.name,
    user_id: user.id,
    user_name: user.name,
    command,
    text,
    api_app_id: id.appId,
    is_enterprise_install: "false",
    response_url: responseUrl,
    trigger_id: `${Date.now()}.${randomAlnum(8)}`,
  };
}

/** Finds the block holding a button with this action_id, so block_id is the real one. */
function findBlockId(blocks: unknown[] | undefined, actionId: string): string | undefined {
  for (const b of blocks ?? []) {
    if (!b || typeof b !== "object") continue;
    const block = b as { block_id?: string; elements?: unknown[]; accessory?: unknown };
    const candidates = [...(block.elements ?? []), block.accessory];
    for (const el of candidates) {
      if (el && typeof el === "object" && (el as { action_id?: string }).action_id === actionId) return block.block_id;
    }
  }
  return undefined;
}

export function blockActionsPayload(
  id: Identity,
  user: EmuUser,
  ch: EmuChannel,
  message: Record<string, unknown>,
  blocks: unknown[] | undefined,
  actionId: string,
  value: string,
  responseUrl: string,
): Record<string, unknown> {
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  return {
    type: "block_actions",
    user: { id: user.id, username: user.name, name: user.name, team_id: id.teamId },
    api_app_id: id.appId,
    token: VERIFICATION_TOKEN,
    container: { type: "message", message_ts: message.ts, channel_id: ch.id, is_ephemeral: false },
    trigger_id: `${Date.now()}.${randomAlnum(8)}`,
    team: { id: id.teamId, domain: "emulator" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: ch.id, name: ch.kind === "im" ? "directmessage" : ch.name },
    message,
    state: { values: {} },
    response_url: responseUrl,
    actions: [
      {
        action_id: actionId,
        block_id: findBlockId(blocks, actionId) ?? randomAlnum(5),
        text: { type: "plain_text", text: actionId, emoji: true },
        value,
        type: "button",
        action_ts: actionTs,
      },
    ],
  };
}
