// The Slack app manifest this build needs, made from app-requirements.ts (the one list).
// Schema: https://docs.slack.dev/reference/app-manifest and slackapi/manifest-schema
// (schemas/manifest.schema.1.0.0.json): the lengths checked below come from there.
import { BOT_EVENTS, BOT_SCOPES, SLASH_COMMAND } from "./app-requirements.ts";

export const DEFAULT_APP_NAME = "clawdbot";
/** display_information.name: 1 to 35 characters (manifest schema 1.0.0). */
export const MAX_APP_NAME = 35;

export interface ManifestOptions {
  name?: string;
  /** http mode: Slack POSTs events, /claw and clicks here (clawdbot serves all three at /slack/events). */
  httpUrl?: string;
}

export class ManifestError extends Error {}

export interface SlackManifest {
  _metadata: { major_version: 1; minor_version: 1 };
  display_information: { name: string; description: string };
  features: {
    app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean; messages_tab_read_only_enabled: boolean };
    bot_user: { display_name: string; always_online: boolean };
    slash_commands: { command: string; description: string; usage_hint: string; should_escape: boolean; url?: string }[];
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url?: string; bot_events: string[] };
    interactivity: { is_enabled: true; request_url?: string };
    org_deploy_enabled: false;
    socket_mode_enabled: boolean;
    token_rotation_enabled: false;
  };
}

function checkName(name: string): string {
  const n = name.trim();
  if (n.length < 1 || n.length > MAX_APP_NAME) {
    throw new ManifestError(`--name "${name}": Slack allows 1 to ${MAX_APP_NAME} characters for an app name`);
  }
  return n;
}

function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ManifestError(`--http-url "${url}" is not a URL; pass e.g. https://bot.example.com/slack/events`);
  }
  // Slack sends requests only to HTTPS URLs with a valid certificate.
  if (u.protocol !== "https:") throw new ManifestError(`--http-url "${url}": Slack requires https://; put a TLS proxy in front of CLAWDBOT_HTTP_PORT`);
  return u.href;
}

export function buildManifest(o: ManifestOptions = {}): SlackManifest {
  const name = checkName(o.name ?? DEFAULT_APP_NAME);
  const url = o.httpUrl === undefined ? undefined : checkUrl(o.httpUrl);
  const at = url ? { request_url: url } : {};
  return {
    _metadata: { major_version: 1, minor_version: 1 },
    display_information: { name, description: "Relays DMs, mentions and /claw to an AI agent; approvers approve the jobs it asks to run." },
    features: {
      // The Messages tab, writable: without it nobody can DM the bot.
      app_home: { home_tab_enabled: false, messages_tab_enabled: true, messages_tab_read_only_enabled: false },
      bot_user: { display_name: name, always_online: true },
      slash_commands: [
        {
          command: SLASH_COMMAND.command,
          description: SLASH_COMMAND.description,
          usage_hint: SLASH_COMMAND.usageHint,
          should_escape: false,
          ...(url ? { url } : {}),
        },
      ],
    },
    oauth_config: { scopes: { bot: BOT_SCOPES.map((s) => s.name) } },
    settings: {
      event_subscriptions: { ...at, bot_events: BOT_EVENTS.map((e) => e.name) },
      interactivity: { is_enabled: true, ...at },
      org_deploy_enabled: false,
      socket_mode_enabled: !url,
      token_rotation_enabled: false,
    },
  };
}

/** JSON (what Slack's "from a manifest" dialog shows first) or YAML, through Bun's own emitter. */
export function renderManifest(m: SlackManifest, format: "json" | "yaml"): string {
  return format === "yaml" ? Bun.YAML.stringify(m, null, 2) : JSON.stringify(m, null, 2);
}
