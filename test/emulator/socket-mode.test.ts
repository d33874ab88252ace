import { afterEach, describe, expect, test } from "bun:test";
import { SlackEmulator, type SlackEmulatorOptions } from "../../src/emulator/index.ts";
import { botClient, RawSocket } from "./helpers.ts";

let emu: SlackEmulator;
const sockets: RawSocket[] = [];
async function setup(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  emu = new SlackEmulator({ pingIntervalMs: 0, ackTimeoutMs: 100, refreshGraceMs: 100, ...opts });
  await emu.start();
  return emu;
}
async function connect(): Promise<RawSocket> {
  const s = await RawSocket.open(emu);
  sockets.push(s);
  await emu.waitFor(() => s.frames.find((f) => f.type === "hello"), { what: "hello" });
  return s;
}
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await emu.stop();
});

describe("Socket Mode", () => {
  test("hello, DM envelope, ack", async () => {
    await setup();
    const s = await connect();
    const hello = s.frames[0] as Record<string, any>;
    expect(hello).toMatchObject({ type: "hello", num_connections: 1, connection_info: { app_id: "A0001" } });
    const d = emu.dm("U1", "hi there");
    const env = await emu.waitFor(() => s.envelopes()[0], { what: "envelope" });
    expect(env).toMatchObject({ envelope_id: d.envelope_id, type: "events_api", retry_attempt: 0, retry_reason: "" });
    expect(env.accepts_response_payload).toBe(false);
    expect(env.payload).toMatchObject({
      type: "event_callback",
      event_id: d.event_id,
      api_app_id: "A0001",
      authorizations: [{ user_id: "UBOT", is_bot: true }],
      event: { type: "message", channel_type: "im", user: "U1", text: "hi there", channel: d.channel, ts: d.ts },
    });
    expect(env.payload?.event?.client_msg_id).toBeString();
    s.ack(d.envelope_id);
    await emu.waitFor(() => emu.envelopes[0]?.acked, { what: "ack" });
    expect(emu.messages(d.channel)[0]).toMatchObject({ user: "U1", text: "hi there" });
  });

  test("unacked envelope is redelivered with retry_attempt and then dropped", async () => {
    await setup({ maxRetries: 2, ackTimeoutMs: 50 });
    const s = await connect();
    const d = emu.dm("U1", "x");
    await emu.waitFor(() => emu.envelopes[0]?.dropped, { what: "dropped" });
    const got = s.envelopes().filter((e) => e.envelope_id === d.envelope_id);
    expect(got.map((e) => [e.retry_attempt, e.retry_reason])).toEqual([
      [0, ""],
      [1, "timeout"],
      [2, "timeout"],
    ]);
    expect(new Set(got.map((e) => e.payload?.event_id))).toEqual(new Set([d.event_id]));
  });

  test("events created with no socket wait for one, still in history", async () => {
    await setup({ ackTimeoutMs: 5000 });
    const d = emu.dm("U1", "while away");
    const h = await botClient(emu).conversations.history({ channel: d.channel });
    expect(h.messages?.[0]?.text).toBe("while away");
    const s = await connect();
    const env = await emu.waitFor(() => s.envelopes()[0], { what: "late envelope" });
    expect(env.envelope_id).toBe(d.envelope_id);
    expect(env.retry_attempt).toBe(0);
  });

  test("mention: text escaped, two envelopes (message + app_mention)", async () => {
    await setup();
    const s = await connect();
    const m = emu.mention("U1", "CGEN", "run a && b > c <x>");
    await emu.waitFor(() => s.envelopes().length >= 2, { what: "two envelopes" });
    const [msg, mention] = s.envelopes();
    expect(msg?.payload?.event).toMatchObject({ type: "message", channel_type: "channel", channel: "CGEN" });
    expect(mention?.payload?.event).toMatchObject({ type: "app_mention", channel: "CGEN", ts: m.ts });
    expect(mention?.payload?.event?.text).toBe("<@UBOT> run a &amp;&amp; b &gt; c &lt;x&gt;");
    expect(msg?.payload?.event_id).not.toBe(mention?.payload?.event_id);
    expect(mention?.payload?.event_id).toBe(m.event_id);
  });

  test("bot posts are echoed as message events (heartbeat canary)", async () => {
    await setup();
    const s = await connect();
    emu.addChannel("CHB");
    const post = await botClient(emu).chat.postMessage({ channel: "CHB", text: "heartbeat" });
    const env = await emu.waitFor(() => s.envelopes()[0], { what: "echo" });
    expect(env.payload?.event).toMatchObject({ type: "message", bot_id: "BBOT", user: "UBOT", ts: post.ts, text: "heartbeat" });
  });

  test("edit and delete events carry subtypes", async () => {
    await setup();
    const s = await connect();
    const d = emu.channelMessage("U1", "CGEN", "one");
    emu.editMessage("CGEN", d.ts, "two");
    emu.deleteMessage("CGEN", d.ts);
    await emu.waitFor(() => s.envelopes().length >= 3, { what: "3 envelopes" });
    expect(s.envelopes().map((e) => e.payload?.event?.subtype)).toEqual([undefined, "message_changed", "message_deleted"]);
    expect(s.envelopes()[1]?.payload?.event?.message?.text).toBe("two");
    expect(s.envelopes()[2]?.payload?.event?.deleted_ts).toBe(d.ts);
  });

  test("slash command: payload, ack payload and response_url become messages", async () => {
    await setup();
    const s = await connect();
    emu.addChannel("CGEN");
    const sl = emu.slash("U1", "CGEN", "exec echo a && echo b");
    const env = await emu.waitFor(() => s.envelopes()[0], { what: "slash" });
    expect(env).toMatchObject({ type: "slash_commands", accepts_response_payload: true });
    expect(env.payload).toMatchObject({
      command: "/claw",
      text: "exec echo a &amp;&amp; echo b",
      user_id: "U1",
      channel_id: "CGEN",
      response_url: sl.response_url,
    });
    s.ack(sl.envelope_id, { text: "working on it" });
    await emu.waitFor(() => emu.messages("CGEN").find((m) => m.text === "working on it"), { what: "ack reply" });
    const r = await fetch(sl.response_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: "done", response_type: "in_channel" }),
    });
    expect(r.status).toBe(200);
    expect(emu.botMessages("CGEN").find((m) => m.text === "done")?.ephemeral).toBeUndefined();
    expect(emu.messages("CGEN").find((m) => m.text === "working on it")?.ephemeral).toEqual({ user: "U1" });
  });

  test("click: block_actions with the card", async () => {
    await setup();
    const s = await connect();
    emu.addChannel("CGEN");
    const blocks = [
      {
        type: "actions",
        block_id: "appr",
        elements: [
          { type: "button", action_id: "approval_approve", value: "A1", text: { type: "plain_text", text: "Approve" } },
        ],
      },
    ];
    const card = await botClient(emu).chat.postMessage({ channel: "CGEN", text: "card", blocks });
    const c = emu.click("U9", "CGEN", card.ts!, "approval_approve", "A1");
    const env = await emu.waitFor(() => s.envelopes().find((e) => e.type === "interactive"), { what: "click" });
    expect(env.envelope_id).toBe(c.envelope_id);
    expect(env.payload).toMatchObject({
      type: "block_actions",
      user: { id: "U9" },
      container: { type: "message", message_ts: card.ts, channel_id: "CGEN", is_ephemeral: false },
      channel: { id: "CGEN" },
      message: { ts: card.ts, text: "card" },
      actions: [{ action_id: "approval_approve", block_id: "appr", value: "A1", type: "button" }],
    });
    await fetch(c.response_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ replace_original: true, text: "approved" }),
    });
    expect(emu.botMessages("CGEN")[0]?.text).toBe("approved");
  });

  test("sendEvent with duplicates, and redeliver", async () => {
    await setup({ ackTimeoutMs: 5000 });
    const s = await connect();
    const d = emu.sendEvent({ type: "reaction_added", user: "U1", reaction: "eyes" }, { eventId: "Ev123", duplicates: 3 });
    await emu.waitFor(() => s.envelopes().length >= 3, { what: "3 copies" });
    expect(s.envelopes().map((e) => e.retry_attempt)).toEqual([0, 1, 2]);
    expect(s.envelopes().every((e) => e.payload?.event_id === "Ev123" && e.envelope_id === d.envelope_id)).toBe(true);
    s.ack(d.envelope_id);
    emu.redeliver(d.envelope_id);
    await emu.waitFor(() => s.envelopes().length >= 4, { what: "redelivery" });
    expect(s.envelopes()[3]?.retry_attempt).toBe(3);
  });

  test("server pings are answered by the client", async () => {
    await setup({ pingIntervalMs: 20 });
    await connect();
    await emu.waitFor(() => (emu.sockets[0]?.pongs ?? 0) >= 2, { what: "pongs" });
  });

  test("dropSockets: abrupt close, counted closed", async () => {
    await setup();
    const s = await connect();
    expect(emu.openConnections()).toBe(1);
    emu.dropSockets();
    await emu.waitFor(() => s.closed, { what: "client sees close" });
    expect(s.closeCode).not.toBe(1000);
    expect(emu.openConnections()).toBe(0);
    expect(emu.connectionLog[0]?.closedBy).toBe("drop");
    const s2 = await connect();
    expect(s2.frames[0]?.type).toBe("hello");
    const gaps = emu.gapsWithoutConnection();
    expect(gaps).toHaveLength(1);
    expect(gaps[0]?.ongoing).toBe(false);
    expect(emu.maxConcurrentConnections).toBe(1);
  });

  test("blackhole: nothing flows, TCP stays open; released afterwards", async () => {
    await setup({ pingIntervalMs: 20 });
    const s = await connect();
    emu.blackhole(true);
    const pongsBefore = emu.sockets[0]!.pongs;
    emu.dm("U1", "into the void");
    s.ws.send(JSON.stringify({ envelope_id: "nothing" }));
    await Bun.sleep(150); // a silent stretch is the thing under test
    expect(s.envelopes()).toHaveLength(0);
    expect(emu.sockets[0]!.pongs).toBe(pongsBefore);
    expect(emu.sockets[0]!.received).toHaveLength(0);
    expect(s.closed).toBe(false);
    expect(emu.openConnections()).toBe(1);

    // A new connection while black-holed is silent too (no hello).
    const res = await fetch(`${emu.apiUrl}apps.connections.open`, {
      method: "POST",
      headers: { Authorization: "Bearer xapp-emulator" },
    });
    const url = ((await res.json()) as { url: string }).url;
    const s2 = new RawSocket(url);
    sockets.push(s2);
    await emu.waitFor(() => emu.openConnections() === 2, { what: "second TCP" });
    await Bun.sleep(50);
    expect(s2.frames).toHaveLength(0);

    emu.blackhole(false);
    await emu.waitFor(() => s2.frames.find((f) => f.type === "hello"), { what: "hello after release" });
  });

  test("refuseSockets: upgrades fail, none counted", async () => {
    await setup();
    emu.refuseSockets(true);
    const res = await fetch(`${emu.apiUrl}apps.connections.open`, {
      method: "POST",
      headers: { Authorization: "Bearer xapp-emulator" },
    });
    const url = ((await res.json()) as { url: string }).url;
    const ws = new WebSocket(url);
    const outcome = await new Promise<string>((resolve) => {
      ws.addEventListener("open", () => resolve("open"));
      ws.addEventListener("error", () => resolve("error"));
      ws.addEventListener("close", () => resolve("close"));
    });
    expect(outcome).not.toBe("open");
    expect(emu.openConnections()).toBe(0);
    emu.refuseSockets(false);
    await connect();
    expect(emu.openConnections()).toBe(1);
  });

  test("disconnect message; the emulator closes the old connection after the grace", async () => {
    await setup({ refreshGraceMs: 50 });
    const s = await connect();
    emu.sendDisconnect("refresh_requested");
    const msg = await emu.waitFor(() => s.frames.find((f) => f.type === "disconnect"), { what: "disconnect" });
    expect(msg).toMatchObject({ type: "disconnect", reason: "refresh_requested", debug_info: { host: "emulator" } });
    await emu.waitFor(() => s.closed, { what: "closed by server" });
    await emu.waitFor(() => emu.openConnections() === 0, { what: "TCP closed" });
  });

  test("several connections: each envelope goes to one of them, in turn; deafen withholds", async () => {
    await setup();
    const a = await connect();
    const b = await connect();
    expect(b.frames[0]?.num_connections).toBe(2);
    expect(emu.openConnections()).toBe(2);
    for (const text of ["one", "two", "three", "four"]) emu.dm("U1", text);
    await emu.waitFor(() => a.envelopes().length + b.envelopes().length === 4, { what: "four envelopes" });
    expect(a.envelopes()).toHaveLength(2);
    expect(b.envelopes()).toHaveLength(2);
    const ids = [...a.envelopes(), ...b.envelopes()].map((e) => e.envelope_id);
    expect(new Set(ids).size).toBe(4); // none to both
    for (const e of a.envelopes()) a.ack(e.envelope_id!);
    for (const e of b.envelopes()) b.ack(e.envelope_id!);
    emu.deafen(true);
    emu.dm("U1", "five");
    await Bun.sleep(30);
    expect(a.envelopes().length + b.envelopes().length).toBe(4);
    emu.deafen(false);
    await emu.waitFor(() => a.envelopes().length + b.envelopes().length === 5, { what: "released" });
    expect(emu.maxConcurrentConnections).toBe(2);
  });

  test("at most 10 connections per app: the 11th gets a too_many_websockets disconnect instead of hello, and is closed", async () => {
    await setup();
    const open: RawSocket[] = [];
    for (let i = 0; i < 10; i++) open.push(await connect());
    expect(open.map((s) => s.frames[0]?.num_connections)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const extra = await RawSocket.open(emu);
    sockets.push(extra);
    const first = await emu.waitFor(() => extra.frames[0], { what: "a frame" });
    expect(first).toMatchObject({ type: "disconnect", reason: "too_many_websockets" });
    expect(extra.frames.some((f) => f.type === "hello")).toBe(false);
    await emu.waitFor(() => extra.closed, { what: "closed by Slack" });
    expect(emu.sockets.filter((c) => c.refused === "too_many_websockets")).toHaveLength(1);
    // Events still go to the connections that were accepted.
    emu.dm("U1", "hi");
    await emu.waitFor(() => open.some((s) => s.envelopes()[0]), { what: "envelope" });
    expect(extra.envelopes()).toHaveLength(0);
    // One closes: there is room again, and hello counts what is open.
    open[0]!.close();
    await emu.waitFor(() => emu.sockets.filter((c) => c.closedAt === undefined && !c.refused).length === 9, { what: "one closed" });
    const again = await connect();
    expect(again.frames[0]?.num_connections).toBe(10);
  });

  test("hello: num_connections counts this app's open connections; debug_info is there", async () => {
    await setup();
    const a = await connect();
    expect(a.frames[0]).toMatchObject({ type: "hello", num_connections: 1, debug_info: { host: "emulator" } });
    const b = await connect();
    expect(b.frames[0]?.num_connections).toBe(2);
    a.close();
    await emu.waitFor(() => emu.openConnections() === 1, { what: "a closed" });
    const c = await connect();
    expect(c.frames[0]?.num_connections).toBe(2);
  });
});
