// The methods of a bot that shows it is working: assistant thread status, reactions, streamed answers.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { WebClient } from "@slack/web-api";
import { SlackEmulator } from "../../src/emulator/index.ts";
import { botClient } from "./helpers.ts";

let emu: SlackEmulator;
let client: WebClient;
beforeEach(async () => {
  emu = new SlackEmulator({ pingIntervalMs: 0 });
  await emu.start();
  client = botClient(emu);
  emu.addChannel("CGEN", { members: ["U1"] });
});
afterEach(async () => {
  await emu.stop();
});

const errorOf = async (p: Promise<unknown>): Promise<string | undefined> =>
  ((await p.catch((e: unknown) => e)) as { data?: { error?: string } }).data?.error;

describe("assistant.threads.setStatus", () => {
  test("sets and clears a thread's status; the bot's reply replaces it; all recorded", async () => {
    const d = emu.dm("U1", "slow question");
    expect((await client.assistant.threads.setStatus({ channel_id: d.channel, thread_ts: d.ts, status: "is thinking..." })).ok).toBe(true);
    expect(emu.threadStatus(d.channel, d.ts)).toBe("is thinking...");
    await client.chat.postMessage({ channel: d.channel, thread_ts: d.ts, text: "the answer" });
    expect(emu.threadStatus(d.channel, d.ts)).toBe("");
    await client.assistant.threads.setStatus({ channel_id: d.channel, thread_ts: d.ts, status: "again" });
    await client.assistant.threads.setStatus({ channel_id: d.channel, thread_ts: d.ts, status: "" });
    expect(emu.threadStatus(d.channel, d.ts)).toBe("");
    expect(emu.statuses.map((s) => s.status)).toEqual(["is thinking...", "again", ""]);
  });

  test("errors as documented: channel_not_found, invalid_thread_ts, more than 10 loading messages", async () => {
    const d = emu.dm("U1", "q");
    expect(await errorOf(client.assistant.threads.setStatus({ channel_id: "DNOPE", thread_ts: d.ts, status: "x" }))).toBe("channel_not_found");
    expect(await errorOf(client.assistant.threads.setStatus({ channel_id: d.channel, thread_ts: "1.000001", status: "x" }))).toBe("invalid_thread_ts");
    const loading_messages = Array.from({ length: 11 }, (_, i) => `step ${i}`);
    expect(await errorOf(client.assistant.threads.setStatus({ channel_id: d.channel, thread_ts: d.ts, status: "x", loading_messages }))).toBe(
      "invalid_arguments",
    );
    emu.addChannel("COUT", { botMember: false });
    const t = emu.channelMessage("U1", "COUT", "hi").ts;
    expect(await errorOf(client.assistant.threads.setStatus({ channel_id: "COUT", thread_ts: t, status: "x" }))).toBe("channel_not_found");
    expect(emu.statuses).toHaveLength(0);
  });
});

describe("reactions", () => {
  test("add and remove, with already_reacted and no_reaction; the message shows them; the log keeps the order", async () => {
    const ts = emu.channelMessage("U1", "CGEN", "hello").ts;
    await client.reactions.add({ channel: "CGEN", timestamp: ts, name: "eyes" });
    expect(await errorOf(client.reactions.add({ channel: "CGEN", timestamp: ts, name: "eyes" }))).toBe("already_reacted");
    expect(emu.reactions("CGEN", ts)).toEqual([{ name: "eyes", users: ["UBOT"], count: 1 }]);
    const h = await client.conversations.history({ channel: "CGEN" });
    expect(h.messages?.[0]?.reactions).toEqual([{ name: "eyes", users: ["UBOT"], count: 1 }]);
    await client.reactions.remove({ channel: "CGEN", timestamp: ts, name: "eyes" });
    expect(await errorOf(client.reactions.remove({ channel: "CGEN", timestamp: ts, name: "eyes" }))).toBe("no_reaction");
    await client.reactions.add({ channel: "CGEN", timestamp: ts, name: "white_check_mark" });
    expect(emu.reactionLog.map((r) => `${r.action} ${r.name}`)).toEqual(["add eyes", "remove eyes", "add white_check_mark"]);
  });

  test("invalid_name, message_not_found, bad_timestamp, no_item_specified", async () => {
    const ts = emu.channelMessage("U1", "CGEN", "hello").ts;
    expect(await errorOf(client.reactions.add({ channel: "CGEN", timestamp: ts, name: ":eyes:" }))).toBe("invalid_name");
    expect(await errorOf(client.reactions.add({ channel: "CGEN", timestamp: ts, name: "not an emoji" }))).toBe("invalid_name");
    expect(await errorOf(client.reactions.add({ channel: "CGEN", timestamp: "1.000001", name: "eyes" }))).toBe("message_not_found");
    expect(await errorOf(client.reactions.add({ channel: "CGEN", timestamp: "yesterday", name: "eyes" }))).toBe("bad_timestamp");
    expect(await errorOf(client.reactions.add({ channel: "CGEN", name: "eyes" } as never))).toBe("no_item_specified");
    expect(emu.reactionLog).toHaveLength(0);
  });
});

describe("chat.startStream / appendStream / stopStream", () => {
  test("a streamed answer grows with each append and ends as one message with the whole text", async () => {
    const d = emu.dm("U1", "tell me");
    const start = await client.chat.startStream({ channel: d.channel, thread_ts: d.ts, markdown_text: "Once" });
    const ts = start.ts!;
    for (const part of [" upon", " a", " time"]) await client.chat.appendStream({ channel: d.channel, ts, markdown_text: part });
    expect(emu.streams(d.channel)[0]).toMatchObject({ state: "streaming", text: "Once upon a time" });
    await client.chat.stopStream({ channel: d.channel, ts, markdown_text: "." });
    const [rec] = emu.streams(d.channel);
    expect(rec).toMatchObject({ ts, thread_ts: d.ts, state: "stopped", chunks: ["Once", " upon", " a", " time", "."], text: "Once upon a time." });
    expect(emu.botMessages(d.channel).map((m) => m.text)).toEqual(["Once upon a time."]);
  });

  test("after stop: appends and a second stop are message_not_in_streaming_state; chat.update while streaming is streaming_state_conflict", async () => {
    const d = emu.dm("U1", "q");
    const { ts } = await client.chat.startStream({ channel: d.channel, thread_ts: d.ts });
    expect(await errorOf(client.chat.update({ channel: d.channel, ts: ts!, text: "x" }))).toBe("streaming_state_conflict");
    expect(await errorOf(client.chat.appendStream({ channel: d.channel, ts: ts!, markdown_text: "" }))).toBe("no_text");
    await client.chat.stopStream({ channel: d.channel, ts: ts! });
    expect(await errorOf(client.chat.appendStream({ channel: d.channel, ts: ts!, markdown_text: "late" }))).toBe("message_not_in_streaming_state");
    expect(await errorOf(client.chat.stopStream({ channel: d.channel, ts: ts! }))).toBe("message_not_in_streaming_state");
    expect((await client.chat.update({ channel: d.channel, ts: ts!, text: "edited after" })).ok).toBe(true);
    const plain = await client.chat.postMessage({ channel: d.channel, text: "not a stream" });
    expect(await errorOf(client.chat.appendStream({ channel: d.channel, ts: plain.ts!, markdown_text: "x" }))).toBe("message_not_in_streaming_state");
    expect(await errorOf(client.chat.appendStream({ channel: d.channel, ts: d.ts, markdown_text: "x" }))).toBe("message_not_owned_by_app");
    expect(await errorOf(client.chat.appendStream({ channel: d.channel, ts: "1.000001", markdown_text: "x" }))).toBe("message_not_found");
  });

  test("a user stopping the stream: appends answer stopped_by_user", async () => {
    const d = emu.dm("U1", "q");
    const { ts } = await client.chat.startStream({ channel: d.channel, thread_ts: d.ts, markdown_text: "a" });
    emu.stopStreamByUser(d.channel, ts!);
    expect(await errorOf(client.chat.appendStream({ channel: d.channel, ts: ts!, markdown_text: "b" }))).toBe("stopped_by_user");
  });

  test("in a channel the recipient is required; chunks over 12,000 and bad chunks are refused; membership applies", async () => {
    const t = emu.channelMessage("U1", "CGEN", "q").ts;
    expect(await errorOf(client.chat.startStream({ channel: "CGEN", thread_ts: t }))).toBe("missing_recipient_user_id");
    expect(await errorOf(client.chat.startStream({ channel: "CGEN", thread_ts: t, recipient_user_id: "U1" }))).toBe("missing_recipient_team_id");
    const ok = await client.chat.startStream({ channel: "CGEN", thread_ts: t, recipient_user_id: "U1", recipient_team_id: "T0001" });
    expect(ok.ok).toBe(true);
    expect(await errorOf(client.chat.appendStream({ channel: "CGEN", ts: ok.ts!, markdown_text: "x".repeat(12_001) }))).toBe("invalid_arguments");
    expect(await errorOf(client.chat.appendStream({ channel: "CGEN", ts: ok.ts!, chunks: "nope" } as never))).toBe("invalid_chunks");
    expect((await client.chat.appendStream({ channel: "CGEN", ts: ok.ts!, chunks: [{ type: "markdown_text", text: "hi" }] } as never)).ok).toBe(true);
    expect(emu.streams("CGEN")[0]?.text).toBe("hi");
    emu.addChannel("COUT", { botMember: false });
    expect(await errorOf(client.chat.startStream({ channel: "COUT", thread_ts: "1.000001", recipient_user_id: "U1", recipient_team_id: "T0001" }))).toBe("not_in_channel");
  });

  test("stopStream blocks are checked: more than 50 is msg_blocks_too_many", async () => {
    const d = emu.dm("U1", "q");
    const { ts } = await client.chat.startStream({ channel: d.channel, thread_ts: d.ts, markdown_text: "a" });
    const blocks = Array.from({ length: 51 }, () => ({ type: "divider" }));
    expect(await errorOf(client.chat.stopStream({ channel: d.channel, ts: ts!, blocks } as never))).toBe("msg_blocks_too_many");
    expect(emu.streams(d.channel)[0]?.state).toBe("streaming");
  });

  test("faults can be injected on each stream method", async () => {
    const d = emu.dm("U1", "q");
    emu.fault("chat.appendStream", { status: 429, retryAfter: 2, times: 1 });
    const { ts } = await client.chat.startStream({ channel: d.channel, thread_ts: d.ts, markdown_text: "a" });
    const err = await botClient(emu, { rejectRateLimitedCalls: true }).chat.appendStream({ channel: d.channel, ts: ts!, markdown_text: "b" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "slack_webapi_rate_limited_error", retryAfter: 2 });
    await client.chat.appendStream({ channel: d.channel, ts: ts!, markdown_text: "b" });
    emu.fault("chat.stopStream", { error: "internal_error", times: 1 });
    expect(await errorOf(client.chat.stopStream({ channel: d.channel, ts: ts! }))).toBe("internal_error");
    expect(emu.streams(d.channel)[0]).toMatchObject({ state: "streaming", chunks: ["a", "b"] });
  });
});
