// auth.test with the bot token: Slack accepts it, and for which bot and workspace.
import { explainSlackError } from "../slack-errors.ts";
import { SlackUnreachable } from "../slack.ts";
import { type Check, type CheckResult, errText, fail, pass } from "../types.ts";

const NAME = "auth.test";

/** Slack's API could not be reached: the same line for every check that calls it. */
export function unreachable(name: string, err: unknown): CheckResult {
  const reason = err instanceof SlackUnreachable ? err.message : errText(err);
  return fail(name, reason, "check SLACK_API_URL (default https://slack.com/api/), the network and any proxy between this machine and Slack");
}

export const authCheck: Check = {
  name: NAME,
  needs: ["SLACK_BOT_TOKEN", "SLACK_API_URL"],
  async run(ctx) {
    let a: Awaited<ReturnType<typeof ctx.authTest>>;
    try {
      a = await ctx.authTest();
    } catch (err) {
      return [unreachable(NAME, err)];
    }
    if (!a.ok) {
      const e = explainSlackError("bot", "auth.test", a);
      return [fail(NAME, e.found, e.fix)];
    }
    const b = a.body;
    const who = `${String(b.user ?? "?")} (${String(b.user_id ?? "?")})`;
    return [pass(NAME, `SLACK_BOT_TOKEN is the bot ${who} in ${String(b.team ?? "?")} (${String(b.team_id ?? "?")})`)];
  },
};
