// Public entry of the Slack emulator.
export { SlackEmulator } from "./emulator.ts";
export type { ClickDelivered, Delivered, MentionDelivered, SlashDelivered, WaitOptions } from "./emulator.ts";
export { escapeText, unescapeText } from "./escape.ts";
export { signRequest } from "./http-delivery.ts";
export type { SocketConn } from "./socket-mode.ts";
export type * from "./types.ts";
export type { MessageChange, MessageListener } from "./state.ts";
