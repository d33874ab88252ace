// The scopes Slack granted the bot token (x-oauth-scopes on auth.test's answer) against the
// manifest's list, BOT_SCOPES: each missing one named with what breaks.
import { BOT_SCOPES, type BotScope } from "../../slack/app-requirements.ts";
import { type Check, type CheckResult, fail, pass, warn } from "../types.ts";

const NAME = "scopes";

/**
 * Scopes whose absence leaves the bot working, worse: a WARN, with what the user sees instead.
 * Every other scope of BOT_SCOPES is essential (DMs, mentions, /claw, approvals, catch-up in
 * DMs and public channels): without it the bot loses messages or cannot answer, a FAIL.
 */
export const DEGRADED: Partial<Record<BotScope, string>> = {
  "files:read": "files attached to a message are not given to the agent",
  "files:write": "long output and long commands arrive as several messages instead of a file",
  "reactions:write": "no sign of life on a message while the agent works (outside assistant threads)",
  "users:read": "doctor cannot check that the approvers are real users",
  "mpim:history": "group DMs: no thread context and no catch-up",
  "mpim:read": "group DMs are not recognised as conversations the bot is in",
  "groups:history": "private channels: no thread context and no catch-up",
  "groups:read": "the bot cannot tell whether it is in a private channel, so cards asked there go elsewhere",
};

const FIX = "add it under OAuth & Permissions > Bot Token Scopes and reinstall the app to the workspace (`clawdbot manifest` prints the app's whole manifest)";

export const scopesCheck: Check = {
  name: NAME,
  needs: ["SLACK_BOT_TOKEN", "SLACK_API_URL"],
  async run(ctx) {
    const a = await ctx.authTest().catch(() => null);
    if (!a?.ok) return [warn(NAME, "not checked: Slack did not accept the bot token (see auth.test)", "fix auth.test first")];
    if (a.scopes === null) {
      return [warn(NAME, "not checked: Slack's answer to auth.test has no x-oauth-scopes header", "check SLACK_API_URL points at Slack's Web API")];
    }
    const granted = new Set(a.scopes);
    const missing = BOT_SCOPES.filter((s) => !granted.has(s.name));
    const out: CheckResult[] = missing.map((s) => {
      const degraded = DEGRADED[s.name];
      return degraded
        ? warn(NAME, `${s.name} not granted (${s.why}): ${degraded}`, FIX)
        : fail(NAME, `${s.name} not granted (${s.why})`, FIX);
    });
    if (out.length > 0) return out;
    const needed = new Set<string>(BOT_SCOPES.map((s) => s.name));
    const extra = a.scopes.filter((s) => !needed.has(s));
    const more = extra.length ? `; also granted, not needed: ${extra.join(", ")}` : "";
    return [pass(NAME, `all ${BOT_SCOPES.length} bot scopes granted${more}`)];
  },
};
