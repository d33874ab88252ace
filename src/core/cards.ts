// Approval cards as Slack blocks. The command is shown in preformatted rich-text elements:
// verbatim, no mrkdwn interpretation, its hidden characters written out, so what the approver
// reads is exactly what runs. Whatever the agent sends, a card stays within Slack's limits: a
// command too long for one message is shortened on the card and handed back as a file.
import type { ApprovalKind, ApprovalStatus } from "./store.ts";
import { SLACK_LIMITS } from "./slack-limits.ts";
import { clipMrkdwn, escapeSlack, revealHidden, splitParts } from "./text.ts";

/** What a card shows of an approval (the domain type satisfies it as it is). */
export interface CardView {
  id: string;
  kind: ApprovalKind;
  text: string;
  reason?: string | null;
  requestedBy: string;
  status: ApprovalStatus;
  decidedBy?: string | null;
  exitCode?: number | null;
}

/** The whole command, for a card that could only show part of it. */
export interface CommandFile {
  name: string;
  title: string;
  /** The command as the card shows it: exactly what runs, its hidden characters written out. */
  content: string;
}

export interface Card {
  /** The notification and fallback text (mrkdwn). */
  text: string;
  blocks: unknown[];
  /** Set when the card shows only the start of the command: attach this beside the card. */
  commandFile?: CommandFile;
}

/** Characters of command per preformatted element: a text object's 3,000 (rich text documents none). */
const COMMAND_ELEMENT_CHARS = SLACK_LIMITS.textObject;
/** Characters of command on one card; with the rest of the card well under SLACK_LIMITS.blocksText. */
const COMMAND_CARD_CHARS = 9000;
/** The reason, escaped, on the card; and the command in the notification text. */
const REASON_CHARS = 1000;
const NOTIFICATION_COMMAND_CHARS = 300;
/** A status line is short by construction; bounded all the same. */
const STATUS_CHARS = 500;

const STATUS_LINE: Record<ApprovalStatus, string> = {
  pending: "Waiting for an approver.",
  approved: "Approved, starting.",
  running: "Approved, running.",
  succeeded: "Finished.",
  failed: "Finished with an error.",
  denied: "Denied.",
  expired: "Expired: nobody decided in time. Ask again if it is still needed.",
  interrupted: "Interrupted: clawdbot stopped while it ran. It was not re-run.",
};

const count = (n: number) => n.toLocaleString("en-US");

function statusLine(a: CardView): string {
  let status = STATUS_LINE[a.status];
  if (a.decidedBy && a.status !== "pending" && a.status !== "expired") {
    status = `${a.status === "denied" ? "Denied" : "Approved"} by <@${a.decidedBy}>. ${status}`;
  }
  if (a.exitCode != null && (a.status === "succeeded" || a.status === "failed")) status += ` Exit code ${a.exitCode}.`;
  return clipMrkdwn(status, STATUS_CHARS);
}

function header(a: CardView): string {
  const title = a.kind === "exec" ? ":warning: *Command approval*" : ":warning: *Code job approval*";
  let who = `Requested by <@${a.requestedBy}>`;
  if (a.reason) {
    const reason = escapeSlack(revealHidden(a.reason));
    who += ` — ${clipMrkdwn(reason, REASON_CHARS)}`;
    if (reason.length > REASON_CHARS) who += ` _(reason shortened: ${count(a.reason.length)} characters)_`;
  }
  return `${title} \`${a.id}\`\n${who}`;
}

const preformatted = (text: string) => ({
  type: "rich_text",
  elements: [{ type: "rich_text_preformatted", elements: [{ type: "text", text }] }],
});
const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
// The status is the card's only context block: the sandbox shows it as the card's state.
const context = (text: string) => ({ type: "context", elements: [{ type: "mrkdwn", text }] });

export function buildCard(a: CardView): Card {
  const shown = revealHidden(a.text);
  const fits = shown.length <= COMMAND_CARD_CHARS;
  // Cut at a line break where it can, never inside a character or a \u escape (a little past
  // the cut is enough to see them: no need to look through all of a huge command).
  const head = fits ? shown : (splitParts(shown.slice(0, COMMAND_CARD_CHARS + 64), COMMAND_CARD_CHARS, { fences: false })[0]?.body ?? "");
  const blocks: unknown[] = [section(header(a))];
  for (const p of splitParts(head, COMMAND_ELEMENT_CHARS, { fences: false })) if (p.body) blocks.push(preformatted(p.body));
  const name = `${a.id}-command.txt`;
  if (!fits) {
    blocks.push(
      section(
        `:paperclip: *Shortened:* the command is ${count(shown.length)} characters; the first ${count(head.length)} are shown. The whole command is attached as \`${name}\`: read it before you approve.`,
      ),
    );
  }
  if (shown !== a.text || (a.reason && revealHidden(a.reason) !== a.reason)) {
    blocks.push(section(":mag: Hidden and control characters are written as `\\u200b` (a typed `\\u` as `\\u005cu`): that is what runs."));
  }
  blocks.push(context(statusLine(a)));
  if (a.status === "pending") {
    blocks.push({
      type: "actions",
      block_id: `approval:${a.id}`,
      elements: [
        { type: "button", action_id: "approval_approve", style: "primary", text: { type: "plain_text", text: "Approve" }, value: a.id },
        { type: "button", action_id: "approval_deny", style: "danger", text: { type: "plain_text", text: "Deny" }, value: a.id },
      ],
    });
  }
  const what = a.kind === "exec" ? "Run this command" : "Run this code task";
  // mrkdwn: escaped, so a `<!channel>` in a command pings nobody.
  const text = `${what}? (${a.id}) requested by <@${a.requestedBy}>: ${clipMrkdwn(escapeSlack(shown), NOTIFICATION_COMMAND_CHARS)}`;
  const card: Card = { text, blocks };
  if (!fits) card.commandFile = { name, title: `Command of ${a.id}`, content: shown };
  return card;
}
