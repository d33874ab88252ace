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
  /** Set once files.completeUploadExternal shared it. */
  channel?: string;
  thread_ts?: string;
  initial_comment?: string;
  completed: boolean;
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
  files?: { id: string; name: string; title?: string }[];
  client_msg_id?: string;
}

export interface EmuChannel {
  id: string;
  name: string;
  kind: "channel" | "group" | "im";
  members: Set<string>;
  botMember: boolean;
  /** For IMs: the human on the other side. */
  imUser?: string;
  created: number;
}

export interface EmuUser {
  id: string;
  name: string;
  real_name: string;
  is_bot: boolean;
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
  status?: 429 | 500 | 502 | 503;
  /** Seconds, for the Retry-After header of a 429. */
  retryAfter?: number;
  error?: string;
  latencyMs?: number;
  /** How many calls it applies to; default forever. */
  times?: number;
  /** Only calls whose `channel` (or `channel_id`) argument is this. */
  channel?: string;
  /** Perform the call (the message IS posted) but never answer. */
  executeThenHang?: boolean;
}

export type ConnectionsOpenFailure = "http500" | { error: string };

export type DisconnectReason = "warning" | "refresh_requested" | "link_disabled";
