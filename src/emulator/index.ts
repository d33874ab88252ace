// Public entry of the Slack emulator.
export { SlackEmulator } from "./emulator.ts";
export type { WaitOptions } from "./emulator.ts";
export type { ClickDelivered, Delivered, MentionDelivered, MessageOptions, SlashDelivered } from "./simulate.ts";
export { escapeText, unescapeText } from "./escape.ts";
export { signRequest } from "./http-delivery.ts";
export { MAX_BLOCKS, MAX_BLOCKS_TEXT, MAX_TEXT, MAX_UPDATE_TEXT } from "./limits.ts";
export type { SocketConn } from "./socket-mode.ts";
export type { StatusRecord } from "./statuses.ts";
export type { StreamRecord, StreamState } from "./streams.ts";
export type * from "./types.ts";
export type { MessageChange, MessageListener } from "./state.ts";
