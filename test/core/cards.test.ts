// Approval cards: what the approver reads is what runs (hidden characters written out), and a
// card stays within Slack's limits whatever the agent sends.
import { describe, expect, test } from "bun:test";
import { buildCard, type Card, type CardView } from "../../src/core/cards.ts";
import { messageLimitProblems } from "../../src/core/slack-limits.ts";
import type { ApprovalStatus } from "../../src/core/store.ts";

const view = (o: Partial<CardView> = {}): CardView => ({
  id: "ap_0123456789ab",
  kind: "exec",
  text: "echo hi",
  reason: null,
  requestedBy: "UALICE",
  status: "pending",
  decidedBy: null,
  exitCode: null,
  ...o,
});

type Block = { type: string; text?: { text: string }; elements?: { type: string; text?: string; elements?: { text: string }[] }[] };
const blocksOf = (c: Card) => c.blocks as Block[];
/** The command as the card's preformatted elements show it, joined. */
const commandShown = (c: Card) =>
  blocksOf(c)
    .filter((b) => b.type === "rich_text")
    .map((b) => b.elements?.[0]?.elements?.[0]?.text ?? "")
    .join("");
/** Every string the card puts in front of a person. */
const allText = (c: Card) => [c.text, ...JSON.stringify(c.blocks).matchAll(/"text":"((?:[^"\\]|\\.)*)"/g).map((m) => JSON.parse(`"${m[1]}"`) as string)];
const HIDDEN = /(?![\n\t ])[\p{Cc}\p{Cf}\p{Cs}\p{Z}\p{Default_Ignorable_Code_Point}]/u;
const STATUSES: ApprovalStatus[] = ["pending", "approved", "running", "succeeded", "failed", "denied", "expired", "interrupted"];

describe("hidden characters on a card", () => {
  test("a zero-width space and U+202E are shown escaped in the blocks and the notification text", () => {
    const c = buildCard(view({ text: "echo checking disk \u200b#; touch x \u202e", reason: "disk\u200b check" }));
    expect(commandShown(c)).toBe("echo checking disk \\u200b#; touch x \\u202e");
    expect(c.text).toContain("echo checking disk \\u200b#; touch x \\u202e");
    expect(JSON.stringify(c.blocks)).toContain("disk\\\\u200b check");
    for (const t of allText(c)) expect(HIDDEN.test(t)).toBe(false);
    // The card says how to read it; its one context block stays the status line.
    expect(JSON.stringify(c.blocks)).toContain("Hidden and control characters are written as");
    expect(blocksOf(c).filter((b) => b.type === "context").map((b) => b.elements?.[0]?.text)).toEqual(["Waiting for an approver."]);
  });

  test("a typed \\u200b does not look like an escaped zero-width space", () => {
    const typed = buildCard(view({ text: "printf '\\u200b'" }));
    const hidden = buildCard(view({ text: "printf '\u200b'" }));
    expect(commandShown(typed)).toBe("printf '\\u005cu200b'");
    expect(commandShown(hidden)).toBe("printf '\\u200b'");
  });

  test("a command with nothing hidden is shown exactly as it runs, with no note", () => {
    const c = buildCard(view({ text: "ls -la /tmp && echo 'a <b> & c'\n\tdone" }));
    expect(commandShown(c)).toBe("ls -la /tmp && echo 'a <b> & c'\n\tdone");
    expect(JSON.stringify(c.blocks)).not.toContain("Hidden and control");
  });

  test("a <!channel> in a command or a reason pings nobody", () => {
    const c = buildCard(view({ text: "echo <!channel>", reason: "tell <!here>" }));
    expect(c.text).toContain("echo &lt;!channel&gt;");
    const header = blocksOf(c)[0]?.text?.text ?? "";
    expect(header).toContain("tell &lt;!here&gt;");
    expect(header).not.toContain("<!");
  });
});

describe("Slack's limits", () => {
  test("a card for a 100 kB command and a 10 kB reason passes every limit, in every state, and hands the command back as a file", () => {
    const command = Array.from({ length: 2000 }, (_, i) => `echo line ${i} && printf '%s\\n' "<${i}> & more" # ${"x".repeat(20)}`).join("\n");
    expect(command.length).toBeGreaterThan(100_000);
    const reason = "Because <!channel> & ".repeat(500);
    for (const status of STATUSES) {
      const c = buildCard(view({ text: command, reason, status, decidedBy: status === "pending" ? null : "UBOB", exitCode: 1 }));
      expect(messageLimitProblems(c, "post")).toEqual([]);
      expect(messageLimitProblems(c, "update")).toEqual([]);
      expect(c.commandFile).toEqual({ name: "ap_0123456789ab-command.txt", title: "Command of ap_0123456789ab", content: command });
      // The card shows the start of the command, cut at a line break, and says where the rest is.
      const shown = commandShown(c);
      expect(shown.length).toBeGreaterThan(5000);
      expect(command.startsWith(shown)).toBe(true);
      expect(shown.endsWith("\n")).toBe(true);
      const notes = allText(c).filter((t) => t.includes("*Shortened:*") || t.includes("reason shortened"));
      expect(notes).toEqual([
        expect.stringContaining("_(reason shortened: 10,500 characters)_"),
        `:paperclip: *Shortened:* the command is ${command.length.toLocaleString("en-US")} characters; the first ${shown.length.toLocaleString("en-US")} are shown. The whole command is attached as \`ap_0123456789ab-command.txt\`: read it before you approve.`,
      ]);
    }
  });

  test("a command that fits one message is shown whole across several blocks, no file", () => {
    const command = Array.from({ length: 150 }, (_, i) => `step ${i}: ${"y".repeat(40)}`).join("\n");
    expect(command.length).toBeGreaterThan(6000);
    const c = buildCard(view({ text: command }));
    expect(c.commandFile).toBeUndefined();
    expect(blocksOf(c).filter((b) => b.type === "rich_text").length).toBeGreaterThan(2);
    expect(commandShown(c)).toBe(command);
    expect(messageLimitProblems(c)).toEqual([]);
  });

  test("one enormous line of hidden characters still fits, its escapes never cut apart", () => {
    const c = buildCard(view({ text: "\u200b".repeat(20_000), reason: "\u202e".repeat(5000) }));
    expect(messageLimitProblems(c)).toEqual([]);
    expect(messageLimitProblems(c, "update")).toEqual([]);
    for (const b of blocksOf(c).filter((x) => x.type === "rich_text")) expect(b.elements?.[0]?.elements?.[0]?.text).toMatch(/^(\\u200b)+$/);
    expect(c.text).toMatch(/: (\\u200b)+…$/);
    expect(c.commandFile?.content).toBe("\\u200b".repeat(20_000));
  });
});

describe("buttons and status", () => {
  test("a pending card has Approve and Deny carrying the id; a decided one says who and how it ended", () => {
    const pending = JSON.stringify(buildCard(view()).blocks);
    expect(pending).toContain('"action_id":"approval_approve"');
    expect(pending).toContain('"action_id":"approval_deny"');
    expect(pending).toContain('"value":"ap_0123456789ab"');
    const done = JSON.stringify(buildCard(view({ status: "failed", decidedBy: "UBOB", exitCode: 2 })).blocks);
    expect(done).not.toContain("approval_approve");
    expect(done).toContain("Approved by <@UBOB>. Finished with an error. Exit code 2.");
  });
});
