// What Slack's error codes mean for someone setting clawdbot up, and what to do about them.
// Codes from the methods' pages (https://docs.slack.dev/reference/methods/auth.test and its
// siblings: invalid_auth, not_authed, account_inactive, token_revoked, token_expired, ...).
import type { SlackAnswer } from "./slack.ts";

export type TokenKind = "bot" | "app";

export const TOKEN_SETTING: Record<TokenKind, string> = { bot: "SLACK_BOT_TOKEN", app: "SLACK_APP_TOKEN" };

/** Where a person finds the right token. */
export const TOKEN_SOURCE: Record<TokenKind, string> = {
  bot: "the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page",
  app: "an app-level token (xapp-...) with the connections:write scope from Basic Information > App-Level Tokens",
};

export interface Explanation {
  found: string;
  fix: string;
  /** False for a code not explained here (the fix is then Slack's page for the method). */
  known: boolean;
}

interface Call {
  setting: string;
  method: string;
  /** "put <the right token> in <setting>" */
  put: string;
  kind: TokenKind;
  answer: SlackAnswer;
}

const EXPLAINED: Record<string, (c: Call) => { found: string; fix: string }> = {
  invalid_auth: (c) => ({
    found: `Slack does not accept ${c.setting} (invalid_auth)`,
    fix: `${c.put}; if it is right, the workspace may allow API calls only from certain IP addresses`,
  }),
  not_authed: (c) => ({ found: "no token reached Slack (not_authed)", fix: c.put }),
  token_revoked: (c) => ({
    found: `${c.setting} was revoked (token_revoked): the app was uninstalled or the token regenerated`,
    fix: `reinstall the app to the workspace and ${c.put}`,
  }),
  account_inactive: (c) => ({
    found: `${c.setting} belongs to a deactivated bot user or workspace (account_inactive)`,
    fix: `reinstall the app (if it was deleted, create it again from \`clawdbot manifest\`) and ${c.put}`,
  }),
  token_expired: (c) => ({
    found: `${c.setting} has expired (token_expired): token rotation is on for this app`,
    fix: `turn token rotation off under OAuth & Permissions, reinstall the app and ${c.put}; clawdbot does not refresh tokens`,
  }),
  not_allowed_token_type: (c) => ({ found: `${c.setting} is the wrong kind of token for ${c.method} (not_allowed_token_type)`, fix: c.put }),
  missing_scope: (c) => {
    const needed = typeof c.answer.body.needed === "string" ? `: ${c.answer.body.needed}` : "";
    return {
      found: `${c.setting} lacks the scope ${c.method} needs (missing_scope${needed})`,
      fix: c.kind === "app" ? c.put : "add it under OAuth & Permissions > Bot Token Scopes and reinstall the app (`clawdbot manifest` lists every scope)",
    };
  },
  ratelimited: (c) => ({
    found: `Slack rate-limited ${c.method}${c.answer.retryAfter !== null ? ` (retry after ${c.answer.retryAfter} s)` : ""}`,
    fix: "run clawdbot doctor again in a minute",
  }),
};

/** Slack refused a call made with `kind`'s token: what that means and the fix. */
export function explainSlackError(kind: TokenKind, method: string, answer: SlackAnswer): Explanation {
  const setting = TOKEN_SETTING[kind];
  const error = answer.error ?? "unknown_error";
  const code = error === "rate_limited" ? "ratelimited" : error;
  const explain = EXPLAINED[code];
  if (explain) return { ...explain({ setting, method, put: `put ${TOKEN_SOURCE[kind]} in ${setting}`, kind, answer }), known: true };
  return {
    found: `Slack answered ${method} with ${error}`,
    fix: `see https://docs.slack.dev/reference/methods/${method} for what ${error} means`,
    known: false,
  };
}
