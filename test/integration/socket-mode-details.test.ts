// Socket Mode as Slack runs it: too many connections for the app, someone else holding one,
// and routine refreshes that must not cost a catch-up (history is rate limited).
import { afterEach, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { RawSocket } from "../emulator/helpers.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;
const raw: RawSocket[] = [];

afterEach(async () => {
  await bot?.stop();
  for (const s of raw.splice(0)) s.close();
  await emu?.stop();
  if (bot) cleanup(bot.dataDir);
  emu = bot = undefined;
});

/** Another program holding one of the app's Socket Mode connections. */
async function intruder(e: SlackEmulator): Promise<RawSocket> {
  const s = await RawSocket.open(e);
  raw.push(s);
  await e.waitFor(() => s.frames.find((f) => (f as { type?: string }).type === "hello" || (f as { type?: string }).type === "disconnect"), { what: "intruder's first frame" });
  return s;
}

const warnings = async (b: InProcessBot, text: string) => (await b.rt.store.logs.tail(500)).filter((l) => l.level === "warn" && l.msg.includes(text));
const calls = (e: SlackEmulator, method: string) => e.calls.filter((c) => c.method === method).length;

test("too_many_websockets: each refusal is a failed attempt and the next waits out a growing backoff", async () => {
  emu = await startEmulator({ maxSocketConnections: 1 });
  const e = emu;
  const other = await intruder(e);
  bot = await startBot(e, { CLAWDBOT_RECONNECT_INITIAL: "0.1", CLAWDBOT_RECONNECT_MAX: "2" });
  const b = bot;
  await waitFor(() => e.sockets.filter((c) => c.refused).length >= 4, "four refused attempts", 10_000);
  const at = e.sockets.filter((c) => c.refused).map((c) => c.openedAt);
  const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
  // 100, 200, 400 ms and up to 30% jitter: never a socket right after a refusal.
  expect(gaps[0]).toBeGreaterThanOrEqual(90);
  for (let i = 1; i < gaps.length; i++) expect(gaps[i] as number).toBeGreaterThan(gaps[i - 1] as number);
  await waitFor(async () => (await b.rt.snapshot()).connection_failures >= 4, "each refusal counted as a failure");
  expect((await warnings(b, "too_many_websockets")).length).toBeGreaterThanOrEqual(1);
  // Once the other program lets go, the bot gets its connection.
  other.close();
  await waitFor(async () => (await b.rt.snapshot()).connected, "connected once there is room", 10_000);
});

test("a hello that counts a connection this process does not hold is a warning", async () => {
  emu = await startEmulator();
  const e = emu;
  await intruder(e);
  bot = await startBot(e);
  const b = bot;
  await waitFor(async () => (await b.rt.snapshot()).connected, "connected");
  const w = await waitFor(async () => (await warnings(b, "Socket Mode connections open"))[0], "the warning");
  expect(w.msg).toContain("2 Socket Mode connections");
});

test("a refresh that left no gap reads no history; a reconnect after a drop catches up", async () => {
  emu = await startEmulator({ refreshGraceMs: 5000 });
  const e = emu;
  bot = await startBot(e);
  const b = bot;
  await waitFor(async () => (await b.rt.snapshot()).connected, "connected");
  await waitFor(() => calls(e, "users.conversations") === 1, "the first catch-up");
  e.dm("UREFRESH", "hello");
  await waitFor(() => e.botMessages().some((m) => m.text === "echo: hello"), "answered");
  const before = { ims: calls(e, "users.conversations"), history: calls(e, "conversations.history") };
  for (let round = 0; round < 3; round++) {
    const n = e.connectionLog.length;
    e.sendDisconnect("refresh_requested");
    await waitFor(async () => e.connectionLog.length > n && e.openConnections() === 1 && (await b.rt.snapshot()).connected, `handover ${round}`);
  }
  expect(e.gapsWithoutConnection()).toEqual([]);
  expect(calls(e, "users.conversations")).toBe(before.ims);
  expect(calls(e, "conversations.history")).toBe(before.history);
  // A drop leaves a gap: catch-up runs.
  e.dropSockets();
  await waitFor(() => calls(e, "users.conversations") > before.ims, "catch-up after the drop");
});
