// Group DMs, file shares (and their url_private), thread broadcasts and /me messages.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { WebClient } from "@slack/web-api";
import { SlackEmulator } from "../../src/emulator/index.ts";
import { botClient, RawSocket } from "./helpers.ts";

let emu: SlackEmulator;
let client: WebClient;
let s: RawSocket;
beforeEach(async () => {
  emu = new SlackEmulator({ pingIntervalMs: 0 });
  await emu.start();
  client = botClient(emu);
  s = await RawSocket.open(emu);
});
afterEach(async () => {
  s.close();
  await emu.stop();
});

const events = () => s.envelopes().map((e) => e.payload?.event as Record<string, any>);

describe("group DMs (mpim)", () => {
  test("messages come as channel_type mpim, a mention also as app_mention; history and listing need the mpim scopes", async () => {
    const g = emu.mpimChannel(["U1", "U2"]);
    emu.channelMessage("U1", g, "lunch?");
    const m = emu.mention("U2", g, "what do you think");
    await emu.waitFor(() => s.envelopes().length >= 3, { what: "three events" });
    expect(events().map((e) => [e.type, e.channel_type])).toEqual([
      ["message", "mpim"],
      ["message", "mpim"],
      ["app_mention", undefined],
    ]);
    expect(events()[2]).toMatchObject({ channel: g, ts: m.ts });
    const h = await client.conversations.history({ channel: g });
    expect(h.messages?.map((x) => x.text)).toEqual([`<@UBOT> what do you think`, "lunch?"]);
    const list = await client.users.conversations({ types: "mpim" });
    expect(list.channels?.map((c) => [c.id, c.is_mpim])).toEqual([[g, true]]);
    emu.revokeScopes("mpim:history", "mpim:read");
    await expect(client.conversations.history({ channel: g })).rejects.toMatchObject({ data: { error: "missing_scope", needed: "mpim:history" } });
    await expect(client.users.conversations({ types: "mpim" })).rejects.toMatchObject({ data: { error: "missing_scope", needed: "mpim:read" } });
  });

  test("a group DM the bot is not in sends nothing and cannot be posted to", async () => {
    emu.addChannel("GOTHERS", { kind: "mpim", botMember: false, members: ["U1", "U2", "U3"] });
    emu.channelMessage("U1", "GOTHERS", "secret");
    await expect(client.chat.postMessage({ channel: "GOTHERS", text: "x" })).rejects.toMatchObject({ data: { error: "channel_not_found" } });
    emu.dm("U1", "marker");
    await emu.waitFor(() => s.envelopes().length >= 1, { what: "marker" });
    expect(events().map((e) => e.text)).toEqual(["marker"]);
  });
});

describe("event subscriptions", () => {
  test("only subscribed events are sent: without message.groups a private channel gives mentions but not plain messages", async () => {
    s.close();
    await emu.stop();
    emu = new SlackEmulator({ pingIntervalMs: 0, events: ["app_mention", "message.im", "message.channels"] });
    await emu.start();
    s = await RawSocket.open(emu);
    emu.addChannel("CPRIV", { kind: "private", members: ["U1"] });
    emu.channelMessage("U1", "CPRIV", "chatter");
    const m = emu.mention("U1", "CPRIV", "hey bot");
    expect(m.message_event_id).toBe("");
    await emu.waitFor(() => s.envelopes().length >= 1, { what: "the mention" });
    expect(events().map((e) => e.type)).toEqual(["app_mention"]);
  });
});

describe("file shares", () => {
  test("a DM with a file is a file_share with Slack's file fields; url_private needs the bot token", async () => {
    const d = emu.dm("U1", "what's wrong?", { files: [{ name: "app.log", content: "Error: boom\n" }] });
    const ev = await emu.waitFor(() => events()[0], { what: "file_share" });
    expect(ev).toMatchObject({ type: "message", subtype: "file_share", channel_type: "im", text: "what's wrong?", ts: d.ts, user: "U1" });
    const f = ev.files[0];
    expect(f).toMatchObject({ name: "app.log", mimetype: "text/plain", filetype: "text", size: 12, user: "U1" });
    expect(f.id).toMatch(/^F/);
    expect(f.url_private).toStartWith(emu.baseUrl);

    const ok = await fetch(f.url_private, { headers: { Authorization: `Bearer ${emu.options.botToken}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("Error: boom\n");
    const dl = await fetch(f.url_private_download, { headers: { Authorization: `Bearer ${emu.options.botToken}` } });
    expect(dl.headers.get("content-disposition")).toContain("app.log");

    // Without the token Slack sends its sign-in page, not the file.
    const anon = await fetch(f.url_private);
    expect(anon.status).toBe(200);
    expect(anon.headers.get("content-type")).toContain("text/html");
    expect(await anon.text()).not.toContain("boom");
    expect((await fetch(f.url_private, { redirect: "manual" })).status).toBe(302);
    const wrong = await fetch(f.url_private, { headers: { Authorization: "Bearer xoxb-someone-else" }, redirect: "manual" });
    expect(wrong.status).toBe(302);

    emu.revokeScopes("files:read");
    expect((await fetch(f.url_private, { headers: { Authorization: `Bearer ${emu.options.botToken}` } })).status).toBe(403);
    expect(emu.fileDownloads.map((x) => x.status)).toEqual([200, 200, 302, 302, 302, 403]);
  });

  test("a mention with an image: file_share message and an app_mention carrying files; history shows them", async () => {
    emu.addChannel("CGEN", { members: ["U1"] });
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    const m = emu.mention("U1", "CGEN", "look", { files: [{ name: "shot.png", content: png }] });
    await emu.waitFor(() => s.envelopes().length >= 2, { what: "two events" });
    const [msg, mention] = events();
    expect(msg).toMatchObject({ subtype: "file_share", files: [{ name: "shot.png", mimetype: "image/png", filetype: "png", size: 4 }] });
    expect(mention).toMatchObject({ type: "app_mention", ts: m.ts, files: [{ name: "shot.png" }] });
    const h = await client.conversations.history({ channel: "CGEN" });
    expect(h.messages?.[0]).toMatchObject({ subtype: "file_share", files: [{ name: "shot.png" }] });
    const body = await fetch(msg!.files[0].url_private, { headers: { Authorization: `Bearer ${emu.options.botToken}` } });
    expect(new Uint8Array(await body.arrayBuffer())).toEqual(png);
  });

  test("a url_private fault makes the download fail", async () => {
    emu.dm("U1", "", { files: [{ name: "a.txt", content: "x" }] });
    const f = (await emu.waitFor(() => events()[0], { what: "share" })).files[0];
    emu.fault("url_private", { status: 500, times: 1 });
    expect((await fetch(f.url_private, { headers: { Authorization: `Bearer ${emu.options.botToken}` } })).status).toBe(500);
    expect((await fetch(f.url_private, { headers: { Authorization: `Bearer ${emu.options.botToken}` } })).status).toBe(200);
  });
});

describe("thread_broadcast and me_message", () => {
  test("both can be produced and carry their subtypes in events and history", async () => {
    emu.addChannel("CGEN", { members: ["U1"] });
    const root = emu.channelMessage("U1", "CGEN", "root");
    emu.channelMessage("U1", "CGEN", "also to the channel", { threadTs: root.ts, broadcast: true });
    emu.dm("U1", "waves", { me: true });
    await emu.waitFor(() => s.envelopes().length >= 3, { what: "three events" });
    expect(events().map((e) => e.subtype)).toEqual([undefined, "thread_broadcast", "me_message"]);
    expect(events()[1]).toMatchObject({ thread_ts: root.ts, parent_user_id: "U1" });
    const h = await client.conversations.history({ channel: "CGEN" });
    expect(h.messages?.map((m) => m.subtype)).toEqual(["thread_broadcast", undefined]);
  });
});
