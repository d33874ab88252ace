// The limit checker finds what Slack refuses, with the error Slack answers, and passes what
// sits exactly at a limit: the card tests (and the emulator) can trust it.
import { expect, test } from "bun:test";
import { SLACK_LIMITS as L, blocksTextLength, messageLimitProblems } from "../../src/core/slack-limits.ts";

const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
const button = (o: { text?: string; value?: string; action_id?: string }) => ({
  type: "button",
  text: { type: "plain_text", text: o.text ?? "Go" },
  value: o.value ?? "v",
  action_id: o.action_id ?? "a",
});
const errors = (m: Parameters<typeof messageLimitProblems>[0], method?: "post" | "update") =>
  messageLimitProblems(m, method).map((p) => `${p.error} ${p.at}`);

test("a message exactly at every limit passes", () => {
  const blocks = [
    section("s".repeat(L.sectionText)),
    { type: "context", elements: Array.from({ length: L.contextElements }, () => ({ type: "mrkdwn", text: "c" })) },
    { type: "actions", block_id: "b".repeat(L.blockId), elements: [button({ text: "t".repeat(L.buttonText), value: "v".repeat(L.buttonValue), action_id: "a".repeat(L.actionId) })] },
    ...Array.from({ length: L.blocksPerMessage - 3 }, () => ({ type: "divider" })),
  ];
  expect(errors({ text: "x".repeat(L.updateText), blocks }, "update")).toEqual([]);
  expect(errors({ text: "x".repeat(L.messageText) })).toEqual([]);
});

test("each limit one over is refused with Slack's error for it", () => {
  expect(errors({ blocks: [section("s".repeat(L.sectionText + 1))] })).toEqual(["invalid_blocks /blocks/0/text/text"]);
  expect(errors({ blocks: [section("")] })).toEqual(["invalid_blocks /blocks/0/text/text"]);
  expect(errors({ blocks: Array.from({ length: L.blocksPerMessage + 1 }, () => ({ type: "divider" })) })).toEqual(["invalid_blocks /blocks"]);
  expect(errors({ blocks: [{ type: "context", elements: Array.from({ length: L.contextElements + 1 }, () => ({ type: "mrkdwn", text: "c" })) }] })).toEqual([
    "invalid_blocks /blocks/0/elements",
  ]);
  expect(errors({ blocks: [{ type: "actions", elements: [button({ text: "t".repeat(L.buttonText + 1) })] }] })).toEqual(["invalid_blocks /blocks/0/elements/0/text/text"]);
  expect(errors({ blocks: [{ type: "actions", elements: [button({ value: "v".repeat(L.buttonValue + 1) })] }] })).toEqual(["invalid_blocks /blocks/0/elements/0/value"]);
  expect(errors({ blocks: [{ type: "actions", elements: [button({ action_id: "a".repeat(L.actionId + 1) })] }] })).toEqual([
    "invalid_blocks /blocks/0/elements/0/action_id",
  ]);
  expect(errors({ blocks: [{ type: "divider", block_id: "b".repeat(L.blockId + 1) }] })).toEqual(["invalid_blocks /blocks/0/block_id"]);
  expect(errors({ text: "x".repeat(L.updateText + 1) }, "update")).toEqual(["msg_too_long /text"]);
  expect(errors({ text: "x".repeat(L.messageText + 1) })).toEqual(["msg_too_long /text"]);
});

test("all the blocks' text together, rich text included, is bounded: msg_blocks_too_long", () => {
  const rich = (text: string) => ({ type: "rich_text", elements: [{ type: "rich_text_preformatted", elements: [{ type: "text", text }] }] });
  const blocks = [section("s".repeat(3000)), rich("r".repeat(3000)), rich("r".repeat(3000)), rich("r".repeat(3000))];
  expect(blocksTextLength(blocks)).toBe(12_000);
  expect(errors({ blocks })).toEqual([]);
  expect(errors({ blocks: [...blocks, section("1")] })).toEqual(["msg_blocks_too_long /blocks"]);
});
