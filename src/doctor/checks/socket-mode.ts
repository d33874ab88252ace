// apps.connections.open with the app-level token (socket mode): Slack hands out a Socket Mode
// URL. The call alone proves the token; doctor never connects to the URL.
import { explainSlackError } from "../slack-errors.ts";
import { callSlack } from "../slack.ts";
import { type Check, fail, pass } from "../types.ts";
import { unreachable } from "./auth.ts";

const NAME = "apps.connections.open";

export const socketModeCheck: Check = {
  name: NAME,
  needs: ["SLACK_APP_TOKEN", "SLACK_API_URL", "CLAWDBOT_MODE"],
  async run(ctx) {
    const c = ctx.config;
    if (c.mode === "http") return [pass(NAME, "not used: http mode (Slack posts events to /slack/events)")];
    let a: Awaited<ReturnType<typeof callSlack>>;
    try {
      a = await callSlack(c.slackApiUrl, "apps.connections.open", c.slackAppToken, {}, ctx.timeoutMs);
    } catch (err) {
      return [unreachable(NAME, err)];
    }
    if (!a.ok || typeof a.body.url !== "string") {
      const e = explainSlackError("app", "apps.connections.open", a);
      // A code of its own is likely an app that is not set up for Socket Mode yet.
      return [fail(NAME, e.found, e.known ? e.fix : `${e.fix}; check Socket Mode is on (the app's Socket Mode page)`)];
    }
    return [pass(NAME, "SLACK_APP_TOKEN opens Socket Mode connections (a URL was issued; doctor does not connect)")];
  },
};
