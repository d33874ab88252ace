import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ErrorCode, WebClient } from "@slack/web-api";
import { SlackEmulator } from "../../src/emulator/index.ts";
import { botClient } from "./helpers.ts";

let emu: SlackEmulator;
beforeEach(async () => {
  emu = new SlackEmulator({ pingIntervalMs: 0 });
  await emu.start();
});
afterEach(async () => {
  await emu.stop();
});

describe("Web API", () => {
  test("auth.test with the bot token; bad and missing tokens refused", async () => {
    const res = await botClient(emu).auth.test();
    expect(res.ok).toBe(true);
    expect(res.user_id).toBe("UBOT");
    expect(res.bot_id).toBe("BBOT");
    expect(res.team_id).toBe("T0001");

    const bad = new WebClient("xoxb-wrong", { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } });
    await expect(bad.auth.test()).rejects.toMatchObject({ data: { error: "invalid_auth" } });
    const res2 = await fetch(`${emu.apiUrl}auth.test`, { method: "POST" });
    expect(await res2.json()).toEqual({ ok: false, error: "not_authed" });
    expect(emu.calls.map((c) => c.method)).toEqual(["auth.test", "auth.test", "auth.test"]);
  });

  test("unknown method and unknown channel are refused", async () => {
    const client = botClient(emu);
    await expect(client.apiCall("nope.nothing")).rejects.toMatchObject({ data: { error: "unknown_method" } });
    await expect(client.chat.postMessage({ channel: "C404", text: "x" })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { error: "channel_not_found" },
    });
    expect(emu.botMessages()).toHaveLength(0);
  });

  test("post, thread, history and replies with metadata and blocks", async () => {
    const client = botClient(emu);
    emu.addChannel("CGEN", { members: ["U1"] });
    const parent = emu.channelMessage("U1", "CGEN", "hello");
    const blocks = [{ type: "section", text: { type: "mrkdwn", text: "hi" } }];
    const r1 = await client.chat.postMessage({
      channel: "CGEN",
      text: "reply",
      thread_ts: parent.ts,
      blocks,
      metadata: { event_type: "clawdbot_reply", event_payload: { outbox_id: "ob1" } },
    });
    expect(r1.ok).toBe(true);
    expect(r1.channel).toBe("CGEN");
    expect(r1.message?.metadata?.event_payload).toEqual({ outbox_id: "ob1" });
    const r2 = await client.chat.postMessage({ channel: "CGEN", text: "top" });
    expect(Number(r2.ts)).toBeGreaterThan(Number(r1.ts));

    const hist = await client.conversations.history({ channel: "CGEN", include_all_metadata: true });
    expect(hist.messages?.map((m) => m.text)).toEqual(["top", "hello"]);
    expect(hist.messages?.[1]?.reply_count).toBe(1);

    const replies = await client.conversations.replies({ channel: "CGEN", ts: parent.ts });
    expect(replies.messages?.map((m) => m.text)).toEqual(["hello", "reply"]);
    expect(replies.messages?.[1]?.metadata).toEqual({ event_type: "clawdbot_reply", event_payload: { outbox_id: "ob1" } });
    expect(replies.messages?.[1]?.blocks).toEqual(blocks as never);

    const stored = emu.botMessages("CGEN");
    expect(stored[0]?.thread_ts).toBe(parent.ts);
    expect(stored[0]?.metadata?.event_type).toBe("clawdbot_reply");
  });

  test("history paging, oldest/latest, update, delete, ephemeral", async () => {
    const client = botClient(emu);
    emu.addChannel("CGEN");
    const ts: string[] = [];
    for (let i = 0; i < 5; i++) ts.push((await client.chat.postMessage({ channel: "CGEN", text: `m${i}` })).ts!);
    const p1 = await client.conversations.history({ channel: "CGEN", limit: 2 });
    expect(p1.messages?.map((m) => m.text)).toEqual(["m4", "m3"]);
    expect(p1.has_more).toBe(true);
    const p2 = await client.conversations.history({ channel: "CGEN", limit: 2, cursor: p1.response_metadata?.next_cursor });
    expect(p2.messages?.map((m) => m.text)).toEqual(["m2", "m1"]);
    const ranged = await client.conversations.history({ channel: "CGEN", oldest: ts[1], latest: ts[4] });
    expect(ranged.messages?.map((m) => m.text)).toEqual(["m3", "m2"]);

    await client.chat.update({ channel: "CGEN", ts: ts[0]!, text: "edited" });
    expect(emu.botMessages("CGEN")[0]).toMatchObject({ text: "edited", edited: { user: "UBOT" } });
    await client.chat.delete({ channel: "CGEN", ts: ts[1]! });
    expect(emu.botMessages("CGEN")).toHaveLength(4);
    emu.addChannel("CGEN", { members: ["U1"] });
    const eph = await client.chat.postEphemeral({ channel: "CGEN", user: "U1", text: "only you" });
    expect(eph.ok).toBe(true);
    expect(emu.messages("CGEN").find((m) => m.ephemeral)?.ephemeral).toEqual({ user: "U1" });
    const h = await client.conversations.history({ channel: "CGEN" });
    expect(h.messages?.some((m) => m.text === "only you")).toBe(false);
  });

  test("conversations.open, users.info, conversations.list", async () => {
    const client = botClient(emu);
    emu.addUser("U1", { name: "alice" });
    emu.addChannel("CGEN");
    emu.addChannel("COTHER", { botMember: false });
    const open = await client.conversations.open({ users: "U1" });
    expect(open.channel?.id).toMatch(/^D/);
    const again = await client.conversations.open({ users: "U1" });
    expect(again.channel?.id).toBe(open.channel!.id!);
    expect((await client.users.info({ user: "U1" })).user?.name).toBe("alice");
    const list = await client.users.conversations({ types: "public_channel,im" });
    expect(list.channels?.map((c) => c.id).sort()).toEqual(["CGEN", open.channel!.id!].sort());
    // Posting to a user id lands in the IM.
    const post = await client.chat.postMessage({ channel: "U1", text: "hi" });
    expect(post.channel).toBe(open.channel!.id!);
  });

  test("429 with Retry-After, and WebAPIRateLimitedError with rejectRateLimitedCalls", async () => {
    emu.addChannel("CGEN");
    emu.fault("chat.postMessage", { status: 429, retryAfter: 7, times: 1 });
    const res = await fetch(`${emu.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { Authorization: "Bearer xoxb-emulator", "Content-Type": "application/json" },
      body: JSON.stringify({ channel: "CGEN", text: "x" }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");

    emu.fault("chat.postMessage", { status: 429, retryAfter: 3, times: 1 });
    const client = botClient(emu, { rejectRateLimitedCalls: true });
    const err = await client.chat.postMessage({ channel: "CGEN", text: "x" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 3 });
    // Faults were used up: the next call goes through.
    expect((await client.chat.postMessage({ channel: "CGEN", text: "ok" })).ok).toBe(true);
    expect(emu.botMessages()).toHaveLength(1);
  });

  test("channel-scoped error fault and clearFaults", async () => {
    const client = botClient(emu);
    emu.addChannel("CA");
    emu.addChannel("CB");
    emu.fault("chat.postMessage", { error: "channel_not_found", channel: "CA" });
    await expect(client.chat.postMessage({ channel: "CA", text: "x" })).rejects.toMatchObject({
      data: { error: "channel_not_found" },
    });
    expect((await client.chat.postMessage({ channel: "CB", text: "x" })).ok).toBe(true);
    emu.clearFaults();
    expect((await client.chat.postMessage({ channel: "CA", text: "x" })).ok).toBe(true);
  });

  test("any ok:false error can be injected, with extra fields; rate_limited with a Retry-After header", async () => {
    emu.addChannel("CGEN");
    const client = botClient(emu);
    for (const error of ["posting_to_general_channel_denied", "is_inactive", "storage_limit_reached", "upgrade_required"]) {
      emu.fault("chat.postMessage", { error, times: 1 });
      await expect(client.chat.postMessage({ channel: "CGEN", text: "x" })).rejects.toMatchObject({ data: { ok: false, error } });
    }
    emu.fault("conversations.history", { error: "missing_scope", extra: { needed: "mpim:history", provided: "chat:write" }, times: 1 });
    await expect(client.conversations.history({ channel: "CGEN" })).rejects.toMatchObject({
      data: { error: "missing_scope", needed: "mpim:history", provided: "chat:write" },
    });
    emu.fault("chat.postMessage", { error: "rate_limited", retryAfter: 9, times: 1 });
    const res = await fetch(`${emu.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { Authorization: "Bearer xoxb-emulator", "Content-Type": "application/json" },
      body: JSON.stringify({ channel: "CGEN", text: "x" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("retry-after")).toBe("9");
    expect(await res.json()).toEqual({ ok: false, error: "rate_limited" });
    expect(emu.botMessages()).toHaveLength(0);
  });

  test("response_url can be failed like a method", async () => {
    emu.addChannel("CGEN");
    const sl = emu.slash("U1", "CGEN", "help");
    emu.fault("response_url", { status: 404, times: 1 });
    const post = () =>
      fetch(sl.response_url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: "hi" }) });
    expect((await post()).status).toBe(404);
    expect((await post()).status).toBe(200);
    expect(emu.responses.map((r) => [r.status, r.error])).toEqual([
      [404, "expired_url"],
      [200, undefined],
    ]);
  });

  test("executeThenHang posts the message but never answers", async () => {
    emu.addChannel("CGEN");
    emu.fault("chat.postMessage", { executeThenHang: true, times: 1 });
    const client = botClient(emu, { timeout: 300 });
    await expect(client.chat.postMessage({ channel: "CGEN", text: "maybe" })).rejects.toBeDefined();
    expect(emu.botMessages("CGEN").map((m) => m.text)).toEqual(["maybe"]);
  });

  test("500 fault and latency", async () => {
    emu.addChannel("CGEN");
    emu.fault("chat.postMessage", { status: 500, latencyMs: 50, times: 1 });
    const t0 = Date.now();
    await expect(botClient(emu).chat.postMessage({ channel: "CGEN", text: "x" })).rejects.toBeDefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(emu.calls[0]?.status).toBe(500);
  });

  test("revokeTokens: later calls answer invalid_auth", async () => {
    emu.revokeTokens();
    await expect(botClient(emu).auth.test()).rejects.toMatchObject({ data: { error: "invalid_auth" } });
  });

  test("file upload v2 records content", async () => {
    emu.addChannel("CGEN");
    const res = await botClient(emu).files.uploadV2({
      channel_id: "CGEN",
      content: "line one\nline two",
      filename: "out.txt",
      title: "Output",
      initial_comment: "here you go",
    });
    expect(res.ok).toBe(true);
    const f = emu.files[0]!;
    expect(new TextDecoder().decode(f.content)).toBe("line one\nline two");
    expect(f).toMatchObject({ name: "out.txt", channel: "CGEN", completed: true, title: "Output" });
    expect(emu.botMessages("CGEN")[0]?.text).toBe("here you go");
  });

  test("apps.connections.open needs the app token and can be failed", async () => {
    const app = new WebClient("xapp-emulator", { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } });
    const ok = await app.apps.connections.open({});
    expect(ok.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/socket\?ticket=/);
    await expect(botClient(emu).apps.connections.open({})).rejects.toMatchObject({
      data: { error: "not_allowed_token_type" },
    });
    emu.failConnectionsOpen(1, { error: "internal_error" });
    await expect(app.apps.connections.open({})).rejects.toMatchObject({ data: { error: "internal_error" } });
    emu.failConnectionsOpen(1, "http500");
    await expect(app.apps.connections.open({})).rejects.toBeDefined();
    expect(emu.calls.at(-1)?.status).toBe(500);
    expect((await app.apps.connections.open({})).ok).toBe(true);
  });
});
