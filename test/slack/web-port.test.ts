// The Web API port against the emulator: paging, and how failures are classified.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import type { SlackCallError } from "../../src/core/slack-port.ts";
import { WebPort } from "../../src/slack/web-port.ts";
import { startEmulator } from "../helpers/bot.ts";

let emu: SlackEmulator;
let port: WebPort;
beforeAll(async () => {
  emu = await startEmulator();
  emu.addChannel("CPAGES", { botMember: true });
  port = new WebPort(emu.options.botToken, emu.apiUrl, { timeoutMs: 2000 });
});
afterAll(() => emu.stop());

test("history follows the cursor past one page, up to the limit", async () => {
  for (let i = 0; i < 450; i++) emu.channelMessage("UALICE", "CPAGES", `m${i}`);
  expect(await port.history("CPAGES", "0", 1000)).toHaveLength(450);
  expect(await port.history("CPAGES", "0", 250)).toHaveLength(250);
});

test("failures are classified: rate limit with Retry-After, permanent, transient, revoked", async () => {
  const kind = async (fault: Parameters<SlackEmulator["fault"]>[1]) => {
    emu.fault("chat.postMessage", { ...fault, times: 1 });
    try {
      await port.post({ channel: "CPAGES", text: "x", outboxId: 1 });
      return "sent";
    } catch (err) {
      return (err as SlackCallError).failure;
    }
  };
  expect(await kind({ status: 429, retryAfter: 3 })).toMatchObject({ kind: "ratelimited", retryAfterMs: 3000 });
  expect(await kind({ error: "channel_not_found" })).toMatchObject({ kind: "permanent", message: "channel_not_found" });
  expect(await kind({ status: 503 })).toMatchObject({ kind: "transient" });
  expect(await kind({ error: "invalid_auth" })).toMatchObject({ kind: "revoked" });
  expect(await kind({})).toBe("sent");
});

test("size, workspace and plan refusals are permanent, never retried: msg_blocks_too_long, posting_to_general_channel_denied, is_inactive, storage_limit_reached, upgrade_required and the rest of the docs' list", async () => {
  const refusals = [
    "msg_blocks_too_long",
    "invalid_blocks",
    "msg_too_long",
    "posting_to_general_channel_denied",
    "posting_to_channel_denied",
    "is_inactive",
    "storage_limit_reached",
    "upgrade_required",
    "attachment_payload_limit_exceeded",
    "markdown_text_conflict",
    "app_access_restricted",
    "block_mismatch",
    "file_upload_size_restricted",
    "snippet_too_large",
  ];
  for (const error of refusals) {
    emu.fault("chat.update", { error, times: 1 });
    const failure = await port.update({ channel: "CPAGES", ts: "1.000001", text: "x" }).then(
      () => "updated",
      (err: SlackCallError) => err.failure,
    );
    expect({ error, failure }).toEqual({ error, failure: { kind: "permanent", message: error } });
  }
});

test("ok:false rate_limited and ratelimited are rate limits that honour Retry-After from the response headers", async () => {
  // Slack can answer HTTP 200 with ok:false and a Retry-After header; a stand-in at the network boundary does.
  let answer = { error: "rate_limited", retryAfter: "7" as string | null };
  const slack = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => Response.json({ ok: false, error: answer.error }, { headers: answer.retryAfter ? { "Retry-After": answer.retryAfter } : {} }),
  });
  const stub = new WebPort("xoxb-test", `http://127.0.0.1:${slack.port}/api/`, { timeoutMs: 2000 });
  const failure = () => stub.post({ channel: "C1", text: "x", outboxId: 1 }).then(() => "sent", (err: SlackCallError) => err.failure);
  try {
    expect(await failure()).toEqual({ kind: "ratelimited", retryAfterMs: 7000, message: "rate_limited" });
    answer = { error: "ratelimited", retryAfter: "12" };
    expect(await failure()).toEqual({ kind: "ratelimited", retryAfterMs: 12_000, message: "ratelimited" });
    answer = { error: "rate_limited", retryAfter: null };
    expect(await failure()).toEqual({ kind: "ratelimited", retryAfterMs: 1000, message: "rate_limited" });
  } finally {
    slack.stop(true);
  }
});

test("response_url: 200 with ok:false is a refusal, not a delivery", async () => {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/used") return Response.json({ ok: false, error: "used_url" });
      if (path === "/busy") return Response.json({ ok: false, error: "internal_error" });
      return new Response("ok");
    },
  });
  const at = (p: string) => `http://127.0.0.1:${server.port}${p}`;
  const failure = async (p: string) => port.respond(at(p), { text: "x" }).then(() => "delivered", (err: SlackCallError) => err.failure.kind);
  expect(await failure("/used")).toBe("permanent");
  expect(await failure("/busy")).toBe("transient");
  expect(await failure("/plain")).toBe("delivered");
  server.stop(true);
});

test("a post reaches Slack with its thread, blocks and outbox id in the metadata; an answer without JSON is a transient refusal", async () => {
  const parent = await port.post({ channel: "CPAGES", text: "parent", outboxId: 41 });
  const blocks = [{ type: "section", text: { type: "mrkdwn", text: "*hi*" } }];
  const { ts } = await port.post({ channel: "CPAGES", threadTs: parent.ts, text: "hi", blocks, outboxId: 42 });
  const m = emu.messages("CPAGES").find((x) => x.ts === ts);
  expect(m).toMatchObject({ thread_ts: parent.ts, text: "hi", blocks, metadata: { event_type: "clawdbot_reply", event_payload: { outbox_id: 42 } } });
  const html = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("<html>bad gateway</html>") });
  const stub = new WebPort("xoxb-test", `http://127.0.0.1:${html.port}/api`, { timeoutMs: 2000 });
  try {
    expect(await stub.post({ channel: "C1", text: "x", outboxId: 1 }).then(() => "sent", (err: SlackCallError) => err.failure.kind)).toBe("transient");
  } finally {
    html.stop(true);
  }
});

test("update of a message still streaming stops the stream, then edits it, with the reply's metadata", async () => {
  const d = emu.dm("UALICE", "stream me");
  const { ts } = await port.startStream({ channel: d.channel, threadTs: d.ts, markdown: "half an ans" });
  await port.appendStream({ channel: d.channel, ts, markdown: "wer" });
  await port.update({ channel: d.channel, ts, text: "the whole answer", outboxId: 7 });
  expect(emu.streams(d.channel).find((r) => r.ts === ts)?.state).toBe("stopped");
  const m = emu.messages(d.channel).find((x) => x.ts === ts);
  expect(m?.text).toBe("the whole answer");
  expect(m?.metadata).toEqual({ event_type: "clawdbot_reply", event_payload: { outbox_id: 7 } });
  // Stopped by the user meanwhile is as good as stopped.
  const s2 = await port.startStream({ channel: d.channel, threadTs: d.ts, markdown: "again" });
  emu.stopStreamByUser(d.channel, s2.ts);
  await port.update({ channel: d.channel, ts: s2.ts, text: "edited after a user's stop" });
  expect(emu.messages(d.channel).find((x) => x.ts === s2.ts)?.text).toBe("edited after a user's stop");
});

test("reactions: adding one already there and removing one already gone count as done", async () => {
  const ts = emu.channelMessage("UALICE", "CPAGES", "react to me").ts;
  await port.react({ channel: "CPAGES", ts, name: "eyes" });
  await port.react({ channel: "CPAGES", ts, name: "eyes" });
  expect(emu.reactions("CPAGES", ts)).toEqual([{ name: "eyes", users: ["UBOT"], count: 1 }]);
  await port.unreact({ channel: "CPAGES", ts, name: "eyes" });
  await port.unreact({ channel: "CPAGES", ts, name: "eyes" });
  expect(emu.reactions("CPAGES", ts)).toEqual([]);
});

test("stream refusals are permanent: stopped_by_user, message_not_in_streaming_state, missing_recipient_user_id", async () => {
  const failure = (p: Promise<unknown>) => p.then(() => "done", (err) => (err as SlackCallError).failure);
  const d = emu.dm("UALICE", "q");
  const { ts } = await port.startStream({ channel: d.channel, threadTs: d.ts, markdown: "x" });
  emu.stopStreamByUser(d.channel, ts);
  expect(await failure(port.appendStream({ channel: d.channel, ts, markdown: "y" }))).toMatchObject({ kind: "permanent", message: "stopped_by_user" });
  const t = emu.channelMessage("UALICE", "CPAGES", "in a channel").ts;
  expect(await failure(port.startStream({ channel: "CPAGES", threadTs: t, markdown: "x" }))).toMatchObject({ kind: "permanent", message: "missing_recipient_user_id" });
  const s = await port.startStream({ channel: "CPAGES", threadTs: t, markdown: "x", recipientUserId: "UALICE", recipientTeamId: emu.options.teamId });
  await port.update({ channel: "CPAGES", ts: s.ts, text: "done" });
  expect(await failure(port.appendStream({ channel: "CPAGES", ts: s.ts, markdown: "late" }))).toMatchObject({ kind: "permanent", message: "message_not_in_streaming_state" });
});
