// What the Slack app must grant clawdbot: the one list the manifest, `doctor`, the README and
// the emulator's default grants are all made from. A feature that calls a new method adds its
// scope here, with why, and nowhere else.

export interface Requirement {
  readonly name: string;
  /** What breaks without it (shown by `doctor` and the README). */
  readonly why: string;
}

/** Bot token scopes (https://docs.slack.dev/reference/scopes). */
export const BOT_SCOPES = [
  { name: "app_mentions:read", why: "receive mentions (app_mention events)" },
  { name: "chat:write", why: "post answers, cards and their updates, ephemerals, streamed answers, assistant thread status" },
  { name: "commands", why: "the /claw slash command" },
  { name: "im:history", why: "receive DMs (message.im) and catch up on DMs missed while away" },
  { name: "im:read", why: "list the bot's DMs for catch-up" },
  { name: "im:write", why: "open a DM to an approver for a card asked in a DM" },
  { name: "mpim:history", why: "answer in group DMs with context, and catch up on them" },
  { name: "mpim:read", why: "see group DMs the bot is in" },
  { name: "channels:history", why: "thread context and catch-up in public channels; the heartbeat canary" },
  { name: "channels:read", why: "know whether the bot is a member of a public channel (where a card can go)" },
  { name: "groups:history", why: "thread context and catch-up in private channels" },
  { name: "groups:read", why: "know whether the bot is a member of a private channel" },
  { name: "files:read", why: "read files people attach to a message (url_private)" },
  { name: "files:write", why: "upload long job output and long commands as files" },
  { name: "reactions:write", why: "the sign of life on a message while the agent works" },
  { name: "users:read", why: "check that the approvers are real users (doctor)" },
] as const satisfies readonly Requirement[];

/** Socket Mode's app-level token scope. */
export const APP_TOKEN_SCOPES = [
  { name: "connections:write", why: "open Socket Mode connections (apps.connections.open)" },
] as const satisfies readonly Requirement[];

/** Bot events the app subscribes to. */
export const BOT_EVENTS = [
  { name: "app_mention", why: "mentions in channels" },
  { name: "message.im", why: "direct messages" },
  { name: "message.mpim", why: "group DMs" },
  { name: "message.channels", why: "the heartbeat canary's own post coming back (deaf-socket check)" },
  { name: "message.groups", why: "the heartbeat canary in a private channel" },
  { name: "tokens_revoked", why: "stop reconnecting when the tokens are revoked" },
  { name: "app_uninstalled", why: "stop reconnecting when the app is uninstalled" },
] as const satisfies readonly Requirement[];

export const SLASH_COMMAND = {
  command: "/claw",
  description: "Ask clawdbot, run an approved command, pause or resume it",
  usageHint: "help | status | exec <command> | code <task> | pause | resume | <question>",
} as const;

export type BotScope = (typeof BOT_SCOPES)[number]["name"];

export const botScopeNames = (): string[] => BOT_SCOPES.map((s) => s.name);
