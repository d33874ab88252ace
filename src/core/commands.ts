// `/claw <subcommand>`: pause, resume, status, help, exec, code; anything else goes to the agent.
// Answers go back through the command's response_url (works in channels the bot is not in);
// the agent's answer is posted in the channel when the bot can post there.
import type { Approvals } from "./approvals.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { queueRespond, type ReplyTo } from "./replies.ts";
import type { InboundEvent, Store, StoreTx } from "./store.ts";
import { unescapeSlack } from "./text.ts";

/** `/claw status`'s answer. */
export type StatusSource = () => Promise<string>;

export interface CommandContext {
  store: Store;
  clock: Clock;
  log: Logger;
  admins: string[];
  approvals: Approvals;
  status: StatusSource;
  kick(): void;
  /** Whether the bot can post in the command's channel (not in a channel without it, nor in a DM between two people). */
  canPost(channel: string): Promise<boolean>;
  answerWithAgent(row: InboundEvent, text: string, to?: ReplyTo): Promise<void>;
}

export const HELP = [
  "*clawdbot* — talk to me in a DM, mention me, or use `/claw`:",
  "• `/claw <question>` — ask the agent",
  "• `/claw exec <command>` — run a shell command after an approver approves it",
  "• `/claw code <task>` — run a code job after an approver approves it",
  "• `/claw status` — connection, kill switch, pending work",
  "• `/claw pause` / `/claw resume` — kill switch (admins only)",
  "• `/claw help` — this text",
].join("\n");

/** The words `/claw` acts on itself; anything else is a question for the agent. */
const SUBCOMMANDS = new Set(["", "help", "status", "pause", "resume", "exec", "code"]);

/** Whether `/claw <text>` is a question for the agent. */
export function isAgentQuestion(text: string): boolean {
  return !SUBCOMMANDS.has(unescapeSlack(text).trim().split(/\s+/)[0]?.toLowerCase() ?? "");
}

export async function handleSlashCommand(row: InboundEvent, c: CommandContext): Promise<void> {
  const { store, clock, log } = c;
  const payload = JSON.parse(row.payload) as { response_url?: string; user_id?: string; channel_id?: string };
  const user = row.user ?? "";
  const channel = row.channel ?? "";
  const raw = unescapeSlack(row.text ?? "").trim();
  const [head = "", ...rest] = raw.split(/\s+/);
  const sub = head.toLowerCase();
  const arg = raw.slice(head.length).trim();
  /** The command's conversation, through its response_url unless the bot can post there. */
  const replyTo = (postable: boolean): ReplyTo => ({ channel, responseUrl: payload.response_url, respond: !postable });
  const respond = async (t: StoreTx, text: string) => {
    if (payload.response_url) await queueRespond(t, { eventKey: row.key, channel, responseUrl: payload.response_url, text }, clock.now());
  };
  const finish = async (text: string, detail?: string) => {
    await store.tx(async (t) => {
      await respond(t, text);
      await t.events.setStatus(row.key, "answered", clock.now(), detail);
    });
    c.kick();
  };
  void rest;

  switch (sub) {
    case "":
    case "help":
      return finish(HELP);
    case "status":
      return finish(await c.status());
    case "pause":
    case "resume": {
      if (!c.admins.includes(user)) {
        log.warn(`/claw ${sub} refused for ${user}: not an admin`, { user });
        return finish(`Only admins can ${sub} clawdbot (CLAWDBOT_ADMINS). Nothing was changed.`, "refused");
      }
      const paused = sub === "pause";
      await store.settings.setPaused(paused, clock.now());
      log.info(`${paused ? "paused" : "resumed"} by ${user}`, { user });
      await finish(
        paused
          ? `:double_vertical_bar: Paused by <@${user}>. Messages get a short notice and no agent answer; no job starts. \`/claw resume\` to resume.`
          : `:arrow_forward: Resumed by <@${user}>.`,
      );
      // Jobs approved but held while paused (or left by a crash) start now.
      if (!paused) void c.approvals.startApproved();
      return;
    }
    case "exec":
    case "code": {
      if (await store.settings.isPaused()) return finish("clawdbot is paused: no job starts. An admin can `/claw resume`.", "paused");
      if (!arg) return finish(`Usage: \`/claw ${sub} <${sub === "exec" ? "command" : "task"}>\``, "usage");
      const route = await c.approvals.route({ channel }, user);
      await store.tx(async (t) => {
        const id = await c.approvals.request(
          t,
          { kind: sub, text: arg, reason: `asked with /claw ${sub}` },
          { requestedBy: user, eventKey: row.key, route, tell: replyTo(false) },
        );
        // A card elsewhere: request() told the requester where.
        if (id && !route.notice) await respond(t, `Approval ${id} requested; an approver will see the card in this channel.`);
        await t.events.setStatus(row.key, "answered", clock.now());
      });
      c.kick();
      return;
    }
    default:
      // Known before answering where Slack lets us (conversations.info); the response_url is
      // also the fallback if a post is refused for membership after all.
      return c.answerWithAgent(row, raw, replyTo(await c.canPost(channel)));
  }
}
