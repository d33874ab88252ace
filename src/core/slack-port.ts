// What the core needs from Slack's Web API, and how a failed call is classified.
// The adapter (src/slack/web-port.ts) maps @slack/web-api onto this; the emulator tests it.

export interface PostArgs {
  channel: string;
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  /** Carried as message metadata, so an uncertain send can be found before re-sending. */
  outboxId: number;
}

export interface UploadArgs {
  channel: string;
  threadTs?: string;
  /** Unique per outbox item: an uncertain upload is found again by it (files carry no metadata). */
  filename: string;
  title?: string;
  content: string;
  /** Posted as the file's message text. */
  initialComment?: string;
}

export interface HistoryMessage {
  ts: string;
  thread_ts?: string;
  user?: string;
  bot_id?: string;
  subtype?: string;
  text?: string;
  reply_count?: number;
  /** ts of the newest reply, on a thread parent. */
  latest_reply?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
  /** Slack's file objects, as they come (see attachments.ts for the fields read). */
  files?: { id?: string; name?: string; title?: string; mimetype?: string; size?: number; url_private?: string; url_private_download?: string; mode?: string }[];
}

/** A conversation as the bot sees it (conversations.info). */
export interface ConversationInfo {
  kind: "public" | "private" | "im" | "mpim";
  /** The bot is in it (a DM the bot can see at all is its own). */
  isMember: boolean;
}

/**
 * A message shown while work goes on (an answer growing, a job's output), outside the outbox:
 * best effort, never retried blindly. Its metadata names what it shows (`live`), so an
 * uncertain post can be found again.
 */
export interface LivePostArgs {
  channel: string;
  threadTs?: string;
  text: string;
  live: string;
}

/** chat.startStream: a message that grows in a thread (https://docs.slack.dev/reference/methods/chat.startStream). */
export interface StartStreamArgs {
  channel: string;
  /** Streamed messages are always thread replies to a user's request. */
  threadTs: string;
  /** Markdown (markdown_text), at most 12,000 characters. */
  markdown: string;
  /** Who the stream is for: required outside DMs. */
  recipientUserId?: string;
  recipientTeamId?: string;
}

export interface SlackPort {
  post(a: PostArgs): Promise<{ ts: string }>;
  postEphemeral(a: { channel: string; user: string; threadTs?: string; text: string; blocks?: unknown[] }): Promise<void>;
  /**
   * chat.update. A message still streaming is stopped first (Slack refuses to edit it). With
   * `outboxId` the message carries the reply metadata, as a post does.
   */
  update(a: { channel: string; ts: string; text: string; blocks?: unknown[]; outboxId?: number }): Promise<void>;
  postLive(a: LivePostArgs): Promise<{ ts: string }>;
  startStream(a: StartStreamArgs): Promise<{ ts: string }>;
  /** Appends markdown (at most 12,000 characters) to a streaming message. */
  appendStream(a: { channel: string; ts: string; markdown: string }): Promise<void>;
  /** assistant.threads.setStatus: the "is thinking..." line of a thread; "" clears it. */
  setStatus(a: { channel: string; threadTs: string; status: string }): Promise<void>;
  /** reactions.add as the bot; already there counts as done. */
  react(a: { channel: string; ts: string; name: string }): Promise<void>;
  /** reactions.remove as the bot; already gone counts as done. */
  unreact(a: { channel: string; ts: string; name: string }): Promise<void>;
  /** One file shared in the channel (thread): files.uploadV2. Not idempotent. */
  upload(a: UploadArgs): Promise<void>;
  respond(url: string, body: { text: string; blocks?: unknown[]; response_type?: "ephemeral" | "in_channel" }): Promise<void>;
  /** Newest first, messages at or after `oldest` (seconds, Slack ts form). */
  history(channel: string, oldest: string, limit: number): Promise<HistoryMessage[]>;
  /** The thread's parent and replies, oldest first. */
  replies(channel: string, threadTs: string, limit: number): Promise<HistoryMessage[]>;
  /** The bot's direct-message conversations (for catch-up). */
  ims(): Promise<string[]>;
  /** conversations.info; a conversation the bot cannot see throws (channel_not_found). */
  conversationInfo(channel: string): Promise<ConversationInfo>;
  /** The bot's DM with `user` (conversations.open, im:write): its channel id. */
  openDm(user: string): Promise<string>;
}

/** How a failed Slack call should be treated by whoever retries it. */
export type SendFailure =
  | { kind: "ratelimited"; retryAfterMs: number; message: string }
  /** Slack said no for good (channel_not_found, not_in_channel, is_archived, msg_too_long...). */
  | { kind: "permanent"; message: string }
  /** Slack said no, but later may say yes (5xx answered, internal_error). The call did not take effect. */
  | { kind: "transient"; message: string }
  /** No answer (timeout, connection reset): the call may or may not have taken effect. */
  | { kind: "unknown"; message: string }
  /** Our credentials are gone. */
  | { kind: "revoked"; message: string };

export class SlackCallError extends Error {
  constructor(readonly failure: SendFailure) {
    super(failure.message);
  }
}

export const OUTBOX_EVENT_TYPE = "clawdbot_reply";

