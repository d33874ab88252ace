// The Slack credentials by their look, before Slack is asked: each present for the mode, of
// the right kind (xoxb- bot, xapp- app-level), and not swapped. Values are never shown.
import type { Check, CheckResult } from "../types.ts";
import { fail, pass, warn } from "../types.ts";
import { TOKEN_SOURCE } from "../slack-errors.ts";

const NAME = "tokens";

export const TOKEN_SETTINGS: readonly string[] = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"];

type Shape = "missing" | "bot" | "app" | "user" | "rotating" | "other";

function shape(v: string | undefined): Shape {
  const t = v?.trim() ?? "";
  if (!t) return "missing";
  if (t.startsWith("xoxb-")) return "bot";
  if (t.startsWith("xapp-")) return "app";
  // Token rotation's access tokens: they expire after 12 hours.
  if (t.startsWith("xoxe.")) return "rotating";
  if (t.startsWith("xoxp-")) return "user";
  return "other";
}

const WHAT: Record<Shape, string> = {
  missing: "is not set",
  bot: "holds a bot token (xoxb-)",
  app: "holds an app-level token (xapp-)",
  user: "holds a user token (xoxp-)",
  rotating: "holds a rotating token (xoxe.): token rotation is on and it expires within 12 hours",
  other: "does not look like a Slack token",
};

export const tokensCheck: Check = {
  name: NAME,
  async run(ctx) {
    const { mode } = ctx.config;
    const bot = shape(ctx.env.SLACK_BOT_TOKEN);
    const app = shape(ctx.env.SLACK_APP_TOKEN);
    if (bot === "app" && app === "bot") {
      return [fail(NAME, "SLACK_BOT_TOKEN holds the xapp- token and SLACK_APP_TOKEN the xoxb- token: they are swapped", "swap the two values")];
    }
    const out: CheckResult[] = [];
    if (bot !== "bot") {
      const fix = bot === "rotating" ? "turn token rotation off under OAuth & Permissions, reinstall the app and " : "";
      out.push(fail(NAME, `SLACK_BOT_TOKEN ${WHAT[bot]}`, `${fix}put ${TOKEN_SOURCE.bot} in SLACK_BOT_TOKEN`));
    }
    if (mode === "socket" && app !== "app") {
      const found = app === "missing" ? "SLACK_APP_TOKEN is not set: socket mode needs it" : `SLACK_APP_TOKEN ${WHAT[app]}`;
      out.push(fail(NAME, found, `put ${TOKEN_SOURCE.app} in SLACK_APP_TOKEN (or run in http mode)`));
    }
    const secret = ctx.env.SLACK_SIGNING_SECRET?.trim() ?? "";
    const copySecret = "copy the Signing Secret from your app's Basic Information > App Credentials into SLACK_SIGNING_SECRET";
    if (mode === "http") {
      if (!secret) out.push(fail(NAME, "SLACK_SIGNING_SECRET is not set: http mode needs it to verify Slack's requests", copySecret));
      else if (shape(secret) !== "other") out.push(fail(NAME, `SLACK_SIGNING_SECRET ${WHAT[shape(secret)]}, not the signing secret`, copySecret));
      // Slack's signing secrets are 32 hex digits.
      else if (!/^[0-9a-f]{32}$/i.test(secret)) out.push(warn(NAME, "SLACK_SIGNING_SECRET does not look like a signing secret (32 hex digits)", copySecret));
    }
    if (out.length > 0) return out;
    const parts = ["SLACK_BOT_TOKEN is a bot token (xoxb-)"];
    if (mode === "socket") parts.push("SLACK_APP_TOKEN an app-level token (xapp-)");
    else parts.push("SLACK_SIGNING_SECRET is set");
    return [pass(NAME, `${parts.join(", ")}; ${mode} mode`)];
  },
};
