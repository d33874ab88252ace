// Block Kit and text limits, as Slack enforces them (see src/emulator/limits.ts for the pages).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { WebClient } from "@slack/web-api";
import { SlackEmulator } from "../../src/emulator/index.ts";
import { botClient } from "./helpers.ts";

let emu: SlackEmulator;
let client: WebClient;
beforeEach(async () => {
  emu = new SlackEmulator({ pingIntervalMs: 0 });
  await emu.start();
  emu.addChannel("CGEN", { members: ["U1"] });
  client = botClient(emu);
});
afterEach(async () => {
  await emu.stop();
});

const section = (text: string, extra: Record<string, unknown> = {}) => ({ type: "section", text: { type: "mrkdwn", text }, ...extra });
const button = (over: Record<string, unknown> = {}) => ({
  type: "button",
  text: { type: "plain_text", text: "Approve" },
  action_id: "approval_approve",
  value: "a1",
  ...over,
});
const actions = (...elements: unknown[]) => ({ type: "actions", elements });

/** The error (and response_metadata.messages) chat.postMessage answers for these blocks. */
async function refusal(blocks: unknown[]): Promise<{ error?: string; messages?: string[] }> {
  const err = (await client.chat.postMessage({ channel: "CGEN", text: "fallback", blocks: blocks as never }).catch((e: unknown) => e)) as {
    data?: { error?: string; response_metadata?: { messages?: string[] } };
  };
  return { error: err.data?.error, messages: err.data?.response_metadata?.messages };
}

describe("Block Kit limits", () => {
  test("a card within every limit is posted", async () => {
    const blocks = [
      { type: "header", text: { type: "plain_text", text: "h".repeat(150) } },
      section("s".repeat(3000), { block_id: "b".repeat(255) }),
      { type: "section", fields: Array.from({ length: 10 }, () => ({ type: "mrkdwn", text: "f".repeat(200) })) },
      { type: "context", elements: Array.from({ length: 10 }, () => ({ type: "mrkdwn", text: "c" })) },
      { type: "divider" },
      { type: "rich_text", elements: [{ type: "rich_text_preformatted", elements: [{ type: "text", text: "code" }] }] },
      actions(button({ text: { type: "plain_text", text: "t".repeat(75) }, value: "v".repeat(2000), action_id: "a".repeat(255) })),
    ];
    const r = await client.chat.postMessage({ channel: "CGEN", text: "card", blocks: blocks as never });
    expect(r.ok).toBe(true);
    expect(emu.botMessages("CGEN")).toHaveLength(1);
  });

  test("section text over 3,000 is invalid_blocks, with Slack's pointer to the field", async () => {
    expect(await refusal([section("x".repeat(3001))])).toEqual({
      error: "invalid_blocks",
      messages: ["[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"],
    });
    expect(emu.botMessages()).toHaveLength(0);
  });

  test("each per-element limit is invalid_blocks", async () => {
    const cases: [unknown[], string][] = [
      [[{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }], "/blocks/0/text/text"],
      [[{ type: "header", text: { type: "mrkdwn", text: "h" } }], "/blocks/0/text/type"],
      [[{ type: "context", elements: Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "c" })) }], "/blocks/0/elements"],
      [[actions(...Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` })))], "/blocks/0/elements"],
      [[actions(button({ text: { type: "plain_text", text: "t".repeat(76) } }))], "/blocks/0/elements/0/text/text"],
      [[actions(button({ value: "v".repeat(2001) }))], "/blocks/0/elements/0/value"],
      [[actions(button({ action_id: "a".repeat(256) }))], "/blocks/0/elements/0/action_id"],
      [[section("ok", { block_id: "b".repeat(256) })], "/blocks/0/block_id"],
      [[{ type: "section", fields: Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "f" })) }], "/blocks/0/fields"],
      [[{ type: "section", fields: [{ type: "mrkdwn", text: "f".repeat(2001) }] }], "/blocks/0/fields/0/text"],
      [[section("")], "/blocks/0/text/text"],
      [[{ type: "section" }], "/blocks/0"],
      [[{ text: "no type" }], "/blocks/0/type"],
      [[{ type: "rich_text", elements: [{ type: "rich_text_bogus", elements: [] }] }], "/blocks/0/elements/0/type"],
    ];
    for (const [blocks, pointer] of cases) {
      const r = await refusal(blocks);
      expect(r.error).toBe("invalid_blocks");
      expect(r.messages?.[0]).toContain(`[json-pointer:${pointer}]`);
    }
    expect(emu.botMessages()).toHaveLength(0);
  });

  test("more than 50 blocks is refused", async () => {
    const r = await refusal(Array.from({ length: 51 }, () => ({ type: "divider" })));
    expect(r.error).toBe("invalid_blocks");
    expect(r.messages?.[0]).toContain("[json-pointer:/blocks]");
    expect((await client.chat.postMessage({ channel: "CGEN", text: "50", blocks: Array.from({ length: 50 }, () => ({ type: "divider" })) as never })).ok).toBe(true);
  });

  test("all block text over 12,000 is msg_blocks_too_long, though each block is within its limit", async () => {
    const five = Array.from({ length: 5 }, () => section("x".repeat(2500)));
    expect((await refusal(five)).error).toBe("msg_blocks_too_long");
    const four = Array.from({ length: 4 }, () => section("x".repeat(3000)));
    expect((await client.chat.postMessage({ channel: "CGEN", text: "12000", blocks: four as never })).ok).toBe(true);
  });

  test("blocks that are not JSON are invalid_blocks_format", async () => {
    const res = await fetch(`${emu.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { Authorization: `Bearer ${emu.options.botToken}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ channel: "CGEN", text: "x", blocks: "[not json" }).toString(),
    });
    expect(await res.json()).toMatchObject({ ok: false, error: "invalid_blocks_format" });
  });

  test("chat.update and chat.postEphemeral check blocks the same way", async () => {
    const posted = await client.chat.postMessage({ channel: "CGEN", text: "card" });
    await expect(client.chat.update({ channel: "CGEN", ts: posted.ts!, text: "x", blocks: [section("x".repeat(3001))] as never })).rejects.toMatchObject({
      data: { error: "invalid_blocks" },
    });
    await expect(
      client.chat.postEphemeral({ channel: "CGEN", user: "U1", text: "x", blocks: [actions(button({ value: "v".repeat(2001) }))] as never }),
    ).rejects.toMatchObject({ data: { error: "invalid_blocks" } });
    expect(emu.botMessages("CGEN").map((m) => m.text)).toEqual(["card"]);
  });

  test("response_url posts are held to the same limits", async () => {
    const sl = emu.slash("U1", "CGEN", "help");
    const res = await fetch(sl.response_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: "x", blocks: [section("x".repeat(3001))] }),
    });
    expect(res.status).toBe(400);
    expect(emu.responses[0]).toMatchObject({ status: 400, error: "invalid_blocks" });
  });
});

describe("text limits", () => {
  test("chat.postMessage truncates text beyond 40,000 and says so (message_truncated)", async () => {
    const r = await client.chat.postMessage({ channel: "CGEN", text: "x".repeat(40_005) });
    expect(r.ok).toBe(true);
    expect(r.warning).toBe("message_truncated");
    expect(emu.botMessages("CGEN")[0]?.text.length).toBe(40_000);
  });

  test("chat.postEphemeral beyond 40,000 and chat.update beyond 4,000 are msg_too_long", async () => {
    await expect(client.chat.postEphemeral({ channel: "CGEN", user: "U1", text: "x".repeat(40_001) })).rejects.toMatchObject({
      data: { error: "msg_too_long" },
    });
    const posted = await client.chat.postMessage({ channel: "CGEN", text: "short" });
    await expect(client.chat.update({ channel: "CGEN", ts: posted.ts!, text: "x".repeat(4001) })).rejects.toMatchObject({
      data: { error: "msg_too_long" },
    });
    expect((await client.chat.update({ channel: "CGEN", ts: posted.ts!, text: "x".repeat(4000) })).ok).toBe(true);
  });

  test("no text, blocks or attachments is no_text; over 100 attachments is too_many_attachments", async () => {
    await expect(client.chat.postMessage({ channel: "CGEN", text: "" })).rejects.toMatchObject({ data: { error: "no_text" } });
    const attachments = Array.from({ length: 101 }, () => ({ text: "a" }));
    await expect(client.chat.postMessage({ channel: "CGEN", text: "x", attachments })).rejects.toMatchObject({
      data: { error: "too_many_attachments" },
    });
  });

  test("markdown_text: with text is markdown_text_conflict; over 12,000 is refused", async () => {
    await expect(client.chat.postMessage({ channel: "CGEN", text: "x", markdown_text: "**y**" } as never)).rejects.toMatchObject({
      data: { error: "markdown_text_conflict" },
    });
    await expect(client.chat.postMessage({ channel: "CGEN", markdown_text: "y".repeat(12_001) } as never)).rejects.toMatchObject({
      data: { error: "invalid_arguments" },
    });
    expect((await client.chat.postMessage({ channel: "CGEN", markdown_text: "**y**" } as never)).ok).toBe(true);
  });
});
