// Public shapes of the emulator: options and what it records.

export interface SlackEmulatorOptions {
  botUserId?: string;
  botId?: string;
  teamId?: string;
  appId?: string;
  /** How long an envelope may stay unacknowledged before it is redelivered. */
  ackTimeoutMs?: number;
  /** Redeliveries after the first attempt (Slack: 3). */
  maxRetries?: number;
  /** Server WebSocket ping frames; 0 = none. */
  pingIntervalMs?: number;
  /** After a `warning`/`refresh_requested` disconnect, the emulator closes the old socket itself this much later. */
  refreshGraceMs?: number;
  botToken?: string;
  appToken?: string;
  /** Timeout for HTTP-mode deliveries (Slack: 3 s). */
  httpTimeoutMs?: number;
  /** Bot token scopes granted to the app; default: every scope of src/slack/app-requirements.ts. */
  scopes?: string[];
  /** Bot events the app subscribes to; default: every event of src/slack/app-requirements.ts. */
  events?: string[];
  /** Concurrent Socket Mode connections per app (Slack: 10); one more gets `too_many_websockets`. */
  maxSocketConnections?: number;
}

export type ResolvedOptions = Required<SlackEmulatorOptions>;

export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

export interface EmuFile {
  id: string;
  name: string;
  title?: string;
  length: number;
  content: Uint8Array;
  /** Who uploaded it (a user sharing it, or the bot). */
  user?: string;
  mimetype?: string;
  /** Set once files.completeUploadExternal shared it. */
  channel?: string;
  thread_ts?: string;
  initial_comment?: string;
  completed: boolean;
  created?: number;
}

/** A file a simulated user attaches to a message. */
export interface FileSpec {
  name: string;
  /** Default: from the name's extension (text/plain, image/png, ...). */
  mimetype?: string;
  content: string | Uint8Array;
  title?: string;
}

export interface Reaction {
  name: string;
  users: string[];
  count: number;
}

/** reactions.add / reactions.remove as they happened, in order. */
export interface ReactionEvent {
  action: "add" | "remove";
  channel: string;
  ts: string;
  name: string;
  user: string;
  at: number;
}

/** A post to a response_url (slash command or click) and what came of it. */
export interface ResponsePost {
  channel: string;
  user: string;
  body: Record<string, unknown>;
  /** HTTP status answered. */
  status: number;
  /** The ok:false error, if it was refused. */
  error?: string;
  /** The message it created or replaced, if any. */
  ts?: string;
  at: number;
}

export interface EmuMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  user?: string;
  bot_id?: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  metadata?: MessageMetadata;
  edited?: { user: string; ts: string };
  ephemeral?: { user: string };
  reply_broadcast?: boolean;
  /** Ids of the files attached (see WorkspaceState.files). */
  files?: string[];
  /** A user's message subtype (file_share, me_message; thread_broadcast comes from reply_broadcast). */
  subtype?: "file_share" | "me_message";
  reactions?: Reaction[];
  client_msg_id?: string;
}

/** public/private channels, 1:1 DMs (im) and group DMs (mpim). */
export type ConversationKind = "public" | "private" | "im" | "mpim";

export interface EmuChannel {
  id: string;
  name: string;
  kind: ConversationKind;
  members: Set<string>;
  botMember: boolean;
  /** For the bot's own IMs: the human on the other side. */
  imUser?: string;
  created: number;
}

export interface ChannelOptions {
  name?: string;
  members?: string[];
  /** Default true: channels a test uses implicitly are ones the bot is in. */
  botMember?: boolean;
  /** Default from the id: D... im, G... private, C... public. */
  kind?: ConversationKind;
}

export interface EmuUser {
  id: string;
  name: string;
  real_name: string;
  is_bot: boolean;
  /** A deactivated account: users.info still finds it, with `deleted: true`. */
  deleted?: boolean;
}

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
  /** HTTP status answered; 0 while (or if forever) hanging. */
  status: number;
  response: unknown;
}

export type EnvelopeType = "events_api" | "slash_commands" | "interactive";

export interface Envelope {
  envelope_id: string;
  payload: Record<string, unknown>;
  type: EnvelopeType;
  accepts_response_payload: boolean;
  retry_attempt: number;
  retry_reason: string;
}

export interface DeliveryAttempt {
  retry_attempt: number;
  at: number;
  /** Socket connection id or "http". */
  via: string;
}

export interface EnvelopeRecord {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  createdAt: number;
  attempts: DeliveryAttempt[];
  acked?: { at: number; payload?: unknown; via: string };
  /** All retries used up without an ack. */
  dropped?: boolean;
}

export interface ConnectionLogEntry {
  id: number;
  openedAt: number;
  closedAt?: number;
  /** Whose TCP side ended first: "client", "server" (also after a normal close handshake, as the server drops TCP first), "drop" (dropSockets). */
  closedBy?: string;
}

export interface Gap {
  from: number;
  to: number;
  ms: number;
  ongoing: boolean;
}

export interface FaultSpec {
  /** HTTP status to answer (403/404 are for the url_private and response_url pseudo-methods). */
  status?: 403 | 404 | 429 | 500 | 502 | 503;
  /** Seconds, for the Retry-After header of a 429 or of an `error` fault (e.g. ok:false `rate_limited`). */
  retryAfter?: number;
  /** Any ok:false error code, answered with HTTP 200 as Slack does. */
  error?: string;
  /** More fields for the ok:false body (e.g. `needed`, `response_metadata`). */
  extra?: Record<string, unknown>;
  latencyMs?: number;
  /** How many calls it applies to; default forever. */
  times?: number;
  /** Only calls whose `channel` (or `channel_id`) argument is this. */
  channel?: string;
  /** Perform the call (the message IS posted) but never answer. */
  executeThenHang?: boolean;
}

export type ConnectionsOpenFailure = "http500" | { error: string };

export type DisconnectReason = "warning" | "refresh_requested" | "link_disabled" | "too_many_websockets";
