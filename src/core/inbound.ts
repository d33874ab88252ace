// Turns what Slack delivered (a Socket Mode envelope or an HTTP request, same payloads)
// into the inbound record: its dedupe key, its kind, and what it is about. Pure.
import { createHash } from "node:crypto";
import type { NewEvent } from "./store.ts";

export interface Classified {
  event: NewEvent;
  /** Our own heartbeat came back: the socket delivers events. */
  canary?: boolean;
  /** tokens_revoked / app_uninstalled: stop for good. */
  terminal?: string;
}

export interface Identity {
  botUserId?: string;
  botId?: string;
}

type Obj = Record<string, unknown>;
const s = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * Subtypes that are still a person talking to us: a message with files, a /me message, a
 * thread reply also sent to the channel. Every other subtype (edits, deletions, joins, bot
 * messages...) is noise.
 */
export const ANSWERED_SUBTYPES: ReadonlySet<string> = new Set(["file_share", "me_message", "thread_broadcast"]);
const noise = (subtype: string | undefined) => subtype !== undefined && !ANSWERED_SUBTYPES.has(subtype);

export function classify(type: string, payload: Obj, me: Identity): Classified {
  if (type === "slash_commands") return slash(payload);
  if (type === "interactive") return interactive(payload);
  if (type === "events_api") return eventCallback(payload, me);
  return { event: { key: `other:${crypto.randomUUID()}`, kind: "other", payload: "{}", status: "ignored" } };
}

/**
 * The key of a payload that carries no id of Slack's: a hash of what was delivered, so a
 * replayed request (same signed body) is one record, not one per copy. Two real commands
 * differ at least in their response_url.
 */
function bodyKey(p: Obj): string {
  return `body:${createHash("sha256").update(JSON.stringify(p)).digest("base64url").slice(0, 32)}`;
}

function slash(p: Obj): Classified {
  return {
    event: {
      key: `cmd:${s(p.trigger_id) ?? bodyKey(p)}`,
      kind: "slash",
      channel: s(p.channel_id),
      user: s(p.user_id),
      text: s(p.text) ?? "",
      payload: JSON.stringify(p),
    },
  };
}

function interactive(p: Obj): Classified {
  const actions = Array.isArray(p.actions) ? (p.actions as Obj[]) : [];
  const a = actions[0] ?? {};
  const ours = p.type === "block_actions" && (a.action_id === "approval_approve" || a.action_id === "approval_deny");
  const channel = s((p.channel as Obj | undefined)?.id) ?? s((p.container as Obj | undefined)?.channel_id);
  const user = s((p.user as Obj | undefined)?.id);
  const trigger = s(p.trigger_id);
  const actionTs = s(a.action_ts);
  const key = trigger || actionTs ? `act:${trigger ?? ""}:${actionTs ?? ""}` : `act:${bodyKey(p)}`;
  return {
    event: {
      key,
      kind: ours ? "action" : "other",
      channel,
      user,
      text: s(a.value),
      payload: JSON.stringify(p),
      status: ours ? "received" : "ignored",
    },
  };
}

function eventCallback(p: Obj, me: Identity): Classified {
  const ev = (p.event ?? {}) as Obj;
  const eventId = s(p.event_id) ?? crypto.randomUUID();
  const type = s(ev.type) ?? "unknown";
  const ignored = (extra: Partial<Classified> = {}): Classified => ({
    // Noise needs no answer: the receiver acks it without a record (only its key and type are kept here).
    event: { key: `ev:${eventId}`, kind: "other", text: type, payload: "{}", status: "ignored" },
    ...extra,
  });

  if (type === "tokens_revoked" || type === "app_uninstalled") return ignored({ terminal: type });

  const channel = s(ev.channel);
  const ts = s(ev.ts);
  const user = s(ev.user);
  const fromBot = !!s(ev.bot_id) || (!!me.botUserId && user === me.botUserId);

  if (type === "message") {
    if (fromBot) return ignored({ canary: user === me.botUserId || s(ev.bot_id) === me.botId });
    if (noise(s(ev.subtype)) || !channel || !ts) return ignored();
    if (s(ev.channel_type) !== "im") return ignored(); // channel messages addressed to us come as app_mention
    return {
      event: {
        key: `msg:${channel}:${ts}`,
        kind: "dm",
        channel,
        ts,
        threadTs: s(ev.thread_ts),
        user,
        text: s(ev.text) ?? "",
        payload: JSON.stringify(p),
      },
    };
  }

  if (type === "app_mention") {
    if (fromBot || noise(s(ev.subtype)) || !channel || !ts) return ignored();
    return {
      event: {
        key: `msg:${channel}:${ts}`,
        kind: "mention",
        channel,
        ts,
        threadTs: s(ev.thread_ts) ?? ts,
        user,
        text: s(ev.text) ?? "",
        payload: JSON.stringify(p),
      },
    };
  }

  return ignored();
}
