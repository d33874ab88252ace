// Which conversations the bot may touch. Private channels, DMs and group DMs it is not in do not
// exist for it (channel_not_found: getsentry/sentry#119600, slack-ruby/slack-ruby-client#227 for a
// DM between two people; https://docs.slack.dev/reference/methods/chat.postMessage: "Bot users
// cannot post to a direct message conversation between two users"). A public channel it is not
// in is visible, and a method that needs membership answers what its docs page lists:
// not_in_channel where the page has it, else channel_not_found.
import type { EmuChannel } from "./types.ts";

export type NonMember =
  /** Works without membership (conversations.info, conversations.members, conversations.join). */
  | "visible"
  /** chat.postMessage, chat.postEphemeral, the stream methods, files.completeUploadExternal, conversations.history. */
  | "not_in_channel"
  /** Methods whose docs list no not_in_channel (conversations.replies, reactions.*, assistant.threads.setStatus, ...). */
  | "channel_not_found";

/** The error for the bot using `ch` under `rule`, or undefined when it may. */
export function accessError(ch: EmuChannel | undefined, rule: NonMember): string | undefined {
  if (!ch) return "channel_not_found";
  if (ch.botMember) return undefined;
  if (ch.kind !== "public") return "channel_not_found";
  return rule === "visible" ? undefined : rule;
}

/** Conversations a bot token can see at all (lists, conversations.info). */
export function visibleToBot(ch: EmuChannel): boolean {
  return ch.botMember || ch.kind === "public";
}
