// The approvers: set (or jobs are refused), and each a real, active person per users.info.
import { explainSlackError } from "../slack-errors.ts";
import { callSlack, type SlackAnswer, SlackUnreachable } from "../slack.ts";
import { type Check, type CheckResult, fail, pass, warn } from "../types.ts";
import { unreachable } from "./auth.ts";

const NAME = "approvers";

const REMOVE = "put only active people's member IDs in CLAWDBOT_APPROVERS (in Slack: their profile > ... > Copy member ID)";

interface SlackUser {
  name?: string;
  real_name?: string;
  deleted?: boolean;
  is_bot?: boolean;
}

function judge(id: string, a: SlackAnswer): CheckResult | string {
  if (!a.ok) {
    if (a.error === "user_not_found") return fail(NAME, `${id} is not a user of this workspace (user_not_found)`, REMOVE);
    if (a.error === "user_not_visible") return fail(NAME, `${id} is not visible to the bot (user_not_visible): a user of another workspace?`, REMOVE);
    if (a.error === "missing_scope") return warn(NAME, `cannot look up ${id}: users:read is not granted (see scopes)`, "grant users:read and reinstall the app");
    const e = explainSlackError("bot", "users.info", a);
    return fail(NAME, `${id}: ${e.found}`, e.fix);
  }
  const u = (a.body.user ?? {}) as SlackUser;
  const who = `${id} (${u.real_name || u.name || "?"})`;
  if (u.deleted) return fail(NAME, `${who} is a deactivated account`, REMOVE);
  if (u.is_bot) return fail(NAME, `${who} is a bot, not a person`, REMOVE);
  return who;
}

export const approversCheck: Check = {
  name: NAME,
  needs: ["CLAWDBOT_APPROVERS", "SLACK_BOT_TOKEN", "SLACK_API_URL"],
  async run(ctx) {
    const c = ctx.config;
    if (c.approvers.length === 0) {
      return [warn(NAME, "CLAWDBOT_APPROVERS is not set: every exec and code job is refused", "set it to the member IDs (U...) of the people who may approve jobs, comma-separated")];
    }
    const auth = await ctx.authTest().catch(() => null);
    if (!auth?.ok) return [warn(NAME, `not checked (${c.approvers.join(", ")}): Slack did not accept the bot token (see auth.test)`, "fix auth.test first")];
    let answers: SlackAnswer[];
    try {
      answers = await Promise.all(c.approvers.map((id) => callSlack(c.slackApiUrl, "users.info", c.slackBotToken, { user: id }, ctx.timeoutMs)));
    } catch (err) {
      if (err instanceof SlackUnreachable) return [unreachable(NAME, err)];
      throw err;
    }
    const verdicts = c.approvers.map((id, i) => judge(id, answers[i] as SlackAnswer));
    const problems = verdicts.filter((v): v is CheckResult => typeof v !== "string");
    if (!c.selfApproval && c.approvers.length < 2) {
      problems.push(
        warn(NAME, `CLAWDBOT_SELF_APPROVAL=off with one approver: ${c.approvers[0]}'s own requests can never be approved`, "name a second approver in CLAWDBOT_APPROVERS, or set CLAWDBOT_SELF_APPROVAL=on"),
      );
    }
    if (c.approvalChannel) problems.push(...(await approvalChannel(c.slackApiUrl, c.slackBotToken, c.approvalChannel, ctx.timeoutMs)));
    if (problems.length > 0) return problems;
    return [pass(NAME, `${verdicts.join(", ")}: active people`)];
  },
};

/** Cards for DMs go to CLAWDBOT_APPROVAL_CHANNEL: the bot must be in it, or each card is refused (not_in_channel). */
async function approvalChannel(apiUrl: string, token: string, channel: string, timeoutMs: number): Promise<CheckResult[]> {
  const invite = `invite the bot to ${channel} (/invite @<the bot> in that channel), or unset CLAWDBOT_APPROVAL_CHANNEL to send cards to each approver's DM`;
  let a: SlackAnswer;
  try {
    a = await callSlack(apiUrl, "conversations.info", token, { channel }, timeoutMs);
  } catch (err) {
    if (err instanceof SlackUnreachable) return [unreachable(NAME, err)];
    throw err;
  }
  if (!a.ok) {
    if (a.error === "channel_not_found") return [fail(NAME, `CLAWDBOT_APPROVAL_CHANNEL ${channel} is not a channel the bot can see (channel_not_found)`, invite)];
    const e = explainSlackError("bot", "conversations.info", a);
    return [warn(NAME, `cannot check CLAWDBOT_APPROVAL_CHANNEL ${channel}: ${e.found}`, e.fix)];
  }
  const info = (a.body.channel ?? {}) as { is_member?: boolean; is_im?: boolean };
  if (info.is_member === false) return [fail(NAME, `the bot is not a member of CLAWDBOT_APPROVAL_CHANNEL ${channel}: cards sent there are refused`, invite)];
  return [];
}
