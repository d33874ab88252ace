// Approval cards as Slack blocks. The command is shown in a preformatted rich-text element:
// verbatim, no mrkdwn interpretation, so what the approver reads is exactly what runs.
import type { Approval, ApprovalStatus } from "./store.ts";
import { escapeSlack } from "./text.ts";

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


export function cardText(a: Approval): string {
  const what = a.kind === "exec" ? "Run this command" : "Run this code task";
  // The notification text is mrkdwn: escaped, so a `<!channel>` in a command pings nobody.
  return `${what}? (${a.id}) requested by <@${a.requestedBy}>: ${escapeSlack(a.text)}`;
}

export function cardBlocks(a: Approval): unknown[] {
  const title = a.kind === "exec" ? ":warning: *Command approval*" : ":warning: *Code job approval*";
  const who = `Requested by <@${a.requestedBy}>${a.reason ? ` — ${escapeSlack(a.reason)}` : ""}`;
  const blocks: unknown[] = [
    { type: "section", text: { type: "mrkdwn", text: `${title} \`${a.id}\`\n${who}` } },
    {
      type: "rich_text",
      elements: [{ type: "rich_text_preformatted", elements: [{ type: "text", text: a.text }] }],
    },
  ];
  let status = STATUS_LINE[a.status];
  if (a.decidedBy && a.status !== "pending" && a.status !== "expired") {
    status = `${a.status === "denied" ? "Denied" : "Approved"} by <@${a.decidedBy}>. ${status}`;
  }
  if (a.exitCode !== null && (a.status === "succeeded" || a.status === "failed")) status += ` Exit code ${a.exitCode}.`;
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: status }] });
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
  return blocks;
}
