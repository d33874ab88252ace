// Which conversations the bot is in, and what Slack answers where it is not.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { WebClient } from "@slack/web-api";
import { SlackEmulator } from "../../src/emulator/index.ts";
import { botClient, RawSocket } from "./helpers.ts";

let emu: SlackEmulator;
let client: WebClient;
beforeEach(async () => {
  emu = new SlackEmulator({ pingIntervalMs: 0 });
  await emu.start();
  client = botClient(emu);
  emu.addChannel("CIN", { members: ["U1"] });
  emu.addChannel("COUT", { kind: "public", botMember: false, members: ["U1"] });
  emu.addChannel("CSECRET", { kind: "private", botMember: false, members: ["U1"] });
  emu.addChannel("DTWO", { kind: "im", botMember: false, members: ["U1", "U2"] });
});
afterEach(async () => {
  await emu.stop();
});

const errorOf = async (p: Promise<unknown>): Promise<string | undefined> =>
  ((await p.catch((e: unknown) => e)) as { data?: { error?: string } }).data?.error;

describe("channel membership", () => {
  test("posting where the bot is not: not_in_channel (public), channel_not_found (private, a DM between two people, unknown)", async () => {
    expect(await errorOf(client.chat.postMessage({ channel: "COUT", text: "x" }))).toBe("not_in_channel");
    expect(await errorOf(client.chat.postMessage({ channel: "CSECRET", text: "x" }))).toBe("channel_not_found");
    expect(await errorOf(client.chat.postMessage({ channel: "DTWO", text: "x" }))).toBe("channel_not_found");
    expect(await errorOf(client.chat.postMessage({ channel: "CNOPE", text: "x" }))).toBe("channel_not_found");
    expect(await errorOf(client.chat.postEphemeral({ channel: "COUT", user: "U1", text: "x" }))).toBe("not_in_channel");
    expect(await errorOf(client.chat.postEphemeral({ channel: "DTWO", user: "U1", text: "x" }))).toBe("channel_not_found");
    expect(emu.botMessages()).toHaveLength(0);
    expect((await client.chat.postMessage({ channel: "CIN", text: "x" })).ok).toBe(true);
  });

  test("an ephemeral to someone not in the channel is user_not_in_channel", async () => {
    emu.addUser("U9");
    expect(await errorOf(client.chat.postEphemeral({ channel: "CIN", user: "U9", text: "x" }))).toBe("user_not_in_channel");
    expect(await errorOf(client.chat.postEphemeral({ channel: "CIN", user: "UNOBODY", text: "x" }))).toBe("user_not_found");
  });

  test("reading and reacting need membership too; what the bot is told per method", async () => {
    const ts = emu.channelMessage("U1", "COUT", "hello").ts;
    expect(await errorOf(client.conversations.history({ channel: "COUT" }))).toBe("not_in_channel");
    expect(await errorOf(client.conversations.replies({ channel: "COUT", ts }))).toBe("channel_not_found");
    expect(await errorOf(client.reactions.add({ channel: "COUT", timestamp: ts, name: "eyes" }))).toBe("channel_not_found");
    expect(await errorOf(client.conversations.history({ channel: "DTWO" }))).toBe("channel_not_found");
    expect(await errorOf(client.filesUploadV2({ channel_id: "COUT", content: "x", filename: "a.txt" }))).toBe("not_in_channel");
  });

  test("a bot that leaves a channel can no longer post; invited back it can", async () => {
    emu.setBotMember("CIN", false);
    expect(await errorOf(client.chat.postMessage({ channel: "CIN", text: "x" }))).toBe("not_in_channel");
    emu.setBotMember("CIN", true);
    expect((await client.chat.postMessage({ channel: "CIN", text: "x" })).ok).toBe(true);
  });

  test("conversations.info: is_member for public channels; private ones it is not in do not exist", async () => {
    expect((await client.conversations.info({ channel: "CIN" })).channel).toMatchObject({ id: "CIN", is_member: true, is_channel: true });
    expect((await client.conversations.info({ channel: "COUT" })).channel).toMatchObject({ id: "COUT", is_member: false, is_private: false });
    expect(await errorOf(client.conversations.info({ channel: "CSECRET" }))).toBe("channel_not_found");
    expect(await errorOf(client.conversations.info({ channel: "DTWO" }))).toBe("channel_not_found");
    const dm = emu.imChannel("U1");
    expect((await client.conversations.info({ channel: dm })).channel).toMatchObject({ id: dm, is_im: true, user: "U1", is_member: true });
  });

  test("conversations.open: the bot's DM with a user, the same one each time; unknown users refused", async () => {
    emu.addUser("U3");
    const first = await client.conversations.open({ users: "U3" });
    const again = await client.conversations.open({ users: "U3", return_im: true });
    expect(again.channel?.id).toBe(first.channel!.id!);
    expect(again).toMatchObject({ already_open: true, channel: { is_im: true, user: "U3" } });
    expect((await client.chat.postMessage({ channel: first.channel!.id!, text: "card" })).ok).toBe(true);
    expect(await errorOf(client.conversations.open({ users: "UNOBODY" }))).toBe("user_not_found");
    expect(await errorOf(client.conversations.open({} as never))).toBe("users_list_not_supplied");
  });

  test("users.info: known users, user_not_found otherwise", async () => {
    emu.addUser("U5", { name: "eve" });
    expect((await client.users.info({ user: "U5" })).user).toMatchObject({ id: "U5", name: "eve", is_bot: false });
    expect(await errorOf(client.users.info({ user: "UNOBODY" }))).toBe("user_not_found");
  });

  test("users.conversations lists what the bot is in; conversations.list what it can see", async () => {
    const mine = await client.users.conversations({ types: "public_channel,private_channel,im" });
    expect(mine.channels?.map((c) => c.id).sort()).toEqual(["CIN"]);
    const seen = await client.conversations.list({ types: "public_channel,private_channel" });
    expect(seen.channels?.map((c) => c.id).sort()).toEqual(["CIN", "COUT"]);
  });
});

describe("no events from where the bot is not", () => {
  test("messages and mentions in a conversation the bot is not in send it nothing", async () => {
    const s = await RawSocket.open(emu);
    await emu.waitFor(() => s.frames.find((f) => f.type === "hello"), { what: "hello" });
    const m = emu.mention("U1", "COUT", "are you there?");
    expect(m.event_id).toBe("");
    emu.channelMessage("U1", "DTWO", "just us");
    emu.dm("U1", "to the bot");
    await emu.waitFor(() => s.envelopes().length >= 1, { what: "the DM" });
    expect(s.envelopes().map((e) => e.payload?.event?.channel)).toEqual([emu.imChannel("U1")]);
    s.close();
  });
});

describe("slash commands and response_url where the bot is not a member", () => {
  test("a /claw in a DM between two people arrives, its response_url works and is recorded", async () => {
    const s = await RawSocket.open(emu);
    const sl = emu.slash("U1", "DTWO", "what is up");
    const env = await emu.waitFor(() => s.envelopes()[0], { what: "slash" });
    expect(env.payload).toMatchObject({ channel_id: "DTWO", channel_name: "directmessage", response_url: sl.response_url });
    expect(await errorOf(client.chat.postMessage({ channel: "DTWO", text: "answer" }))).toBe("channel_not_found");
    const res = await fetch(sl.response_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: "the answer", response_type: "ephemeral" }),
    });
    expect(res.status).toBe(200);
    expect(emu.responses).toEqual([expect.objectContaining({ channel: "DTWO", user: "U1", status: 200, body: { text: "the answer", response_type: "ephemeral" } })]);
    const eph = emu.messages("DTWO").find((m) => m.text === "the answer");
    expect(eph?.ephemeral).toEqual({ user: "U1" });
    expect(emu.calls.filter((c) => c.method === "response_url")).toHaveLength(1);
    s.close();
  });

  test("in a public channel the bot is not in: chat.postMessage not_in_channel, response_url in_channel works", async () => {
    const sl = emu.slash("U1", "COUT", "status");
    expect(await errorOf(client.chat.postMessage({ channel: "COUT", text: "status" }))).toBe("not_in_channel");
    const res = await fetch(sl.response_url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: "all good", response_type: "in_channel" }) });
    expect(res.status).toBe(200);
    expect(emu.messages("COUT").find((m) => m.text === "all good")?.ephemeral).toBeUndefined();
    expect(emu.responses[0]?.ts).toBeString();
  });

  test("an unknown response_url is expired_url (404), recorded", async () => {
    const res = await fetch(`${emu.baseUrl}response/nope`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(res.status).toBe(404);
    expect(emu.responses[0]).toMatchObject({ status: 404, error: "expired_url" });
  });
});
