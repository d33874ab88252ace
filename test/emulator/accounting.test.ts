import { afterEach, expect, test } from "bun:test";
import { type EmuMessage, type MessageChange, SlackEmulator } from "../../src/emulator/index.ts";
import { botClient, RawSocket } from "./helpers.ts";

let emu: SlackEmulator;
const sockets: RawSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await emu.stop();
});

async function connect(): Promise<RawSocket> {
  const s = await RawSocket.open(emu);
  sockets.push(s);
  await emu.waitFor(() => s.frames.find((f) => f.type === "hello"), { what: "hello" });
  return s;
}

test("planned handover leaves no gap; an abrupt drop does", async () => {
  emu = new SlackEmulator({ pingIntervalMs: 0, refreshGraceMs: 5000 });
  await emu.start();
  const old = await connect();
  emu.sendDisconnect("warning");
  await emu.waitFor(() => old.frames.find((f) => f.type === "disconnect"), { what: "disconnect" });
  await connect(); // new one says hello before the old one goes
  old.close();
  await emu.waitFor(() => emu.openConnections() === 1, { what: "old closed" });
  expect(emu.gapsWithoutConnection()).toEqual([]);
  expect(emu.maxConcurrentConnections).toBe(2);
  // After a close handshake the server drops TCP first, so closedBy is "server" here.
  expect(emu.connectionLog[0]?.closedAt).toBeNumber();

  emu.dropSockets();
  await emu.waitFor(() => emu.openConnections() === 0, { what: "dropped" });
  const gaps = emu.gapsWithoutConnection();
  expect(gaps).toHaveLength(1);
  expect(gaps[0]?.ongoing).toBe(true);
});

test("onMessage reports new, updated and deleted messages", async () => {
  emu = new SlackEmulator({ pingIntervalMs: 0 });
  await emu.start();
  const seen: [string, MessageChange][] = [];
  const off = emu.onMessage((m: EmuMessage, change) => seen.push([m.text, change]));
  emu.addChannel("CGEN");
  const client = botClient(emu);
  const r = await client.chat.postMessage({ channel: "CGEN", text: "a" });
  await client.chat.update({ channel: "CGEN", ts: r.ts!, text: "b" });
  await client.chat.delete({ channel: "CGEN", ts: r.ts! });
  off();
  await client.chat.postMessage({ channel: "CGEN", text: "unseen" });
  expect(seen).toEqual([
    ["a", "new"],
    ["b", "updated"],
    ["b", "deleted"],
  ]);
});
