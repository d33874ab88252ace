// People using the workspace: DMs, mentions, channel messages (with files, broadcasts, /me),
// edits and deletions, slash commands, button clicks. Each becomes the event(s) Slack would
// send the bot, and only those: no event from a conversation the bot is not in, no `message`
// event the app did not subscribe to (https://docs.slack.dev/reference/events/message).
import { apiMessage } from "./api-json.ts";
import type { Delivery } from "./delivery.ts";
import { escapeText } from "./escape.ts";
import { eventId as newEventId } from "./ids.ts";
import { appMentionEvent, blockActionsPayload, channelType, eventCallback, messageEvent, messageEventName, slashPayload } from "./payloads.ts";
import type { ResponseTarget } from "./response-url.ts";
import type { WorkspaceState } from "./state.ts";
import type { EmuChannel, EmuMessage, FileSpec } from "./types.ts";
import { newFileId } from "./web-api/files.ts";

export interface Delivered {
  channel: string;
  ts: string;
  /** "" when Slack sends the bot no event (a conversation it is not in, an event it did not subscribe to). */
  event_id: string;
  envelope_id: string;
}

export interface MentionDelivered extends Delivered {
  /** The companion `message` event Slack sends alongside the app_mention. */
  message_event_id: string;
  message_envelope_id: string;
}

export interface SlashDelivered {
  channel: string;
  envelope_id: string;
  response_url: string;
  trigger_id: string;
}

export interface ClickDelivered {
  channel: string;
  envelope_id: string;
  response_url: string;
}

export interface MessageOptions {
  threadTs?: string;
  /** Attached files: the message is a `file_share`. */
  files?: FileSpec[];
  /** A thread reply also sent to the channel (`thread_broadcast`); needs threadTs. */
  broadcast?: boolean;
  /** A /me message (`me_message`). */
  me?: boolean;
}

export interface SimulationDeps {
  state: WorkspaceState;
  delivery: Delivery;
  /** Bot events the app subscribes to. */
  events(): ReadonlySet<string>;
  newResponseUrl(target: ResponseTarget): string;
}

const NONE = { event_id: "", envelope_id: "" };

export class UserSimulation {
  constructor(private readonly d: SimulationDeps) {}

  private get state(): WorkspaceState {
    return this.d.state;
  }

  private deliver(event: Record<string, unknown>, evId?: string): { event_id: string; envelope_id: string } {
    const payload = eventCallback(this.state.identity, event, evId);
    const rec = this.d.delivery.enqueue("events_api", payload, false);
    return { event_id: String(payload.event_id), envelope_id: rec.envelope_id };
  }

  /** The `message` event for m, if Slack would send it to the bot. */
  private deliverMessage(m: EmuMessage, ch: EmuChannel): { event_id: string; envelope_id: string } {
    if (!ch.botMember || !this.d.events().has(messageEventName(ch))) return NONE;
    return this.deliver(messageEvent(this.state, m));
  }

  private shareFiles(user: string, ch: EmuChannel, specs: FileSpec[], threadTs?: string): string[] {
    return specs.map((spec) => {
      const id = newFileId();
      const content = typeof spec.content === "string" ? new TextEncoder().encode(spec.content) : spec.content;
      this.state.files.set(id, {
        id,
        name: spec.name,
        title: spec.title ?? spec.name,
        length: content.byteLength,
        content,
        user,
        ...(spec.mimetype ? { mimetype: spec.mimetype } : {}),
        channel: ch.id,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        completed: true,
        created: Math.floor(Date.now() / 1000),
      });
      return id;
    });
  }

  private store(user: string, ch: EmuChannel, text: string, o: MessageOptions): EmuMessage {
    this.state.ensureUser(user);
    ch.members.add(user);
    const m: EmuMessage = { channel: ch.id, ts: this.state.clock.next(), user, text, client_msg_id: crypto.randomUUID() };
    if (o.threadTs) m.thread_ts = o.threadTs;
    if (o.broadcast) {
      if (!o.threadTs) throw new Error("a broadcast is a thread reply: give threadTs");
      m.reply_broadcast = true;
    }
    if (o.files?.length) {
      m.files = this.shareFiles(user, ch, o.files, o.threadTs);
      m.subtype = "file_share";
    } else if (o.me) m.subtype = "me_message";
    return this.state.store(m);
  }

  /** A DM from `user` to the bot. */
  dm(user: string, text: string, o: MessageOptions = {}): Delivered {
    const ch = this.state.imFor(user);
    const m = this.store(user, ch, escapeText(text), o);
    return { channel: ch.id, ts: m.ts, ...this.deliverMessage(m, ch) };
  }

  /** `<@BOT> text` in a conversation: `message` then `app_mention`, as Slack sends them. */
  mention(user: string, channel: string, text: string, o: MessageOptions = {}): MentionDelivered {
    const ch = this.state.ensureChannel(channel, user);
    const m = this.store(user, ch, `<@${this.state.botUserId}> ${escapeText(text)}`, o);
    const msg = this.deliverMessage(m, ch);
    const mention = ch.botMember && this.d.events().has("app_mention") ? this.deliver(appMentionEvent(this.state, m)) : NONE;
    return { channel: ch.id, ts: m.ts, ...mention, message_event_id: msg.event_id, message_envelope_id: msg.envelope_id };
  }

  /** A plain message in a conversation (no mention). */
  channelMessage(user: string, channel: string, text: string, o: MessageOptions = {}): Delivered {
    const ch = this.state.ensureChannel(channel, user);
    const m = this.store(user, ch, escapeText(text), o);
    return { channel: ch.id, ts: m.ts, ...this.deliverMessage(m, ch) };
  }

  /** A user edits a message: `message_changed` event. */
  editMessage(channel: string, ts: string, newText: string): Delivered {
    const m = this.state.find(channel, ts);
    if (!m) throw new Error(`editMessage: no message ${channel}/${ts}`);
    const previous = apiMessage(m, this.state);
    m.text = escapeText(newText);
    const eventTs = this.state.clock.next();
    m.edited = { user: m.user ?? "", ts: eventTs };
    this.state.notify(m, "updated");
    return { channel, ts: eventTs, ...this.hidden(channel, { subtype: "message_changed", message: apiMessage(m, this.state), previous_message: previous }, eventTs) };
  }

  /** A message is deleted: `message_deleted` event. */
  deleteMessage(channel: string, ts: string): Delivered {
    const m = this.state.remove(channel, ts);
    if (!m) throw new Error(`deleteMessage: no message ${channel}/${ts}`);
    const eventTs = this.state.clock.next();
    return { channel, ts: eventTs, ...this.hidden(channel, { subtype: "message_deleted", deleted_ts: ts, previous_message: apiMessage(m, this.state) }, eventTs) };
  }

  private hidden(channel: string, fields: Record<string, unknown>, eventTs: string): { event_id: string; envelope_id: string } {
    const ch = this.state.channels.get(channel);
    if (!ch?.botMember || !this.d.events().has(messageEventName(ch))) return NONE;
    return this.deliver({ type: "message", hidden: true, channel, ...fields, ts: eventTs, event_ts: eventTs, channel_type: channelType(ch) });
  }

  /** `/claw text` typed by `user` in `channel`: delivered wherever it is typed, bot member or not. */
  slash(user: string, channel: string, text: string, o: { command?: string } = {}): SlashDelivered {
    const ch = /^[CDG]/.test(channel) ? this.state.ensureChannel(channel, user) : this.state.imFor(user);
    const u = this.state.ensureUser(user);
    const responseUrl = this.d.newResponseUrl({ channel: ch.id, user });
    const payload = slashPayload(this.state.identity, u, ch, o.command ?? "/claw", escapeText(text), responseUrl);
    const rec = this.d.delivery.enqueue("slash_commands", payload, true);
    return { channel: ch.id, envelope_id: rec.envelope_id, response_url: responseUrl, trigger_id: payload.trigger_id ?? "" };
  }

  /** `user` clicks the button `actionId` (with `value`) on the message `messageTs`. */
  click(user: string, channel: string, messageTs: string, actionId: string, value: string): ClickDelivered {
    const m = this.state.find(channel, messageTs);
    if (!m) throw new Error(`click: no message ${channel}/${messageTs}`);
    // Whoever sees the message to click it is in the conversation.
    const ch = this.state.ensureChannel(channel, user);
    const u = this.state.ensureUser(user);
    const responseUrl = this.d.newResponseUrl({ channel: ch.id, user, messageTs });
    const payload = blockActionsPayload(this.state.identity, u, ch, apiMessage(m, this.state), m.blocks, actionId, value, responseUrl);
    const rec = this.d.delivery.enqueue("interactive", payload, false);
    return { channel: ch.id, envelope_id: rec.envelope_id, response_url: responseUrl };
  }

  /** Any event (tokens_revoked, reaction_added, app_home_opened, ...), wrapped in an event_callback. */
  sendEvent(event: Record<string, unknown>, o: { eventId?: string; duplicates?: number } = {}): { event_id: string; envelope_id: string } {
    const d = this.deliver({ event_ts: this.state.clock.next(), ...event }, o.eventId ?? newEventId());
    for (let i = 1; i < (o.duplicates ?? 1); i++) this.d.delivery.redeliver(d.envelope_id);
    return d;
  }

  /** Slack echoes the bot's own posts as `message` events (the heartbeat canary relies on it). */
  echo(m: EmuMessage): void {
    const ch = this.state.channels.get(m.channel);
    if (ch) this.deliverMessage(m, ch);
  }
}
