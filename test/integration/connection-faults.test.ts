// Connection faults against the emulator: apps.connections.open failing (backoff, no exit,
// recovery), Slack's refresh (make before break), terminal revocation (stop reconnecting),
// a deaf socket caught by the heartbeat canary. No socket is ever leaked.
import { afterEach, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, spawnBot, startBot, startEmulator, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;

afterEach(async () => {
  await bot?.stop();
  if (emu) expect(emu.openConnections()).toBe(0);
  await emu?.stop();
  if (bot) cleanup(bot.dataDir);
  emu = bot = undefined;
});

async function setup(extra: Record<string, string> = {}, emuOpts = {}): Promise<{ e: SlackEmulator; b: InProcessBot }> {
  emu = await startEmulator({ ackTimeoutMs: 300, ...emuOpts });
  bot = await startBot(emu, extra);
  const b = bot;
  await waitFor(async () => (await b.rt.snapshot()).status === "ok", "first connection");
  return { e: emu, b };
}

function answered(e: SlackEmulator, text: string): number {
  return e.botMessages().filter((m) => m.text === `echo: ${text}`).length;
}

function opens(e: SlackEmulator): number[] {
  return e.calls.filter((c) => c.method === "apps.connections.open").map((c) => c.at);
}

function gaps(ts: number[]): number[] {
  return ts.slice(1).map((t, i) => t - ts[i]!);
}

for (const kind of ["http500", { error: "internal_error" }] as const) {
  test(`apps.connections.open failing 5 times (${JSON.stringify(kind)}) after a drop: no exit, backoff grows, recovery`, async () => {
    const { e, b } = await setup({ CLAWDBOT_RECONNECT_INITIAL: "0.05", CLAWDBOT_RECONNECT_MAX: "2" });
    const before = opens(e).length;
    e.failConnectionsOpen(5, kind);
    e.dropSockets();
    e.dm("U0FAULT01", `during the outage ${JSON.stringify(kind)}`);
    await waitFor(async () => (await b.rt.snapshot()).status === "disconnected", "health disconnected while failing");
    await waitFor(async () => opens(e).length >= before + 6 && (await b.rt.snapshot()).status === "ok", "recovered after 5 failures", 10_000);
    const g = gaps(opens(e).slice(before, before + 6));
    console.log(`connections.open gaps while failing (${JSON.stringify(kind)}): ${g.join(", ")} ms`);
    // 50, 100, 200, 400, 800 ms plus up to 30% jitter: each gap longer than the one before.
    for (let i = 1; i < g.length; i++) expect(g[i]!).toBeGreaterThan(g[i - 1]!);
    expect(g[0]!).toBeGreaterThanOrEqual(45);
    expect(g[4]!).toBeLessThan(800 * 1.3 + 300);
    await waitFor(() => answered(e, `during the outage ${JSON.stringify(kind)}`), "the message sent during the outage");
    expect((await b.rt.snapshot()).connection_failures).toBe(5);
    expect(e.openConnections()).toBe(1);
  }, 15_000);
}

test("refresh_requested: the new socket opens before the old closes, no gap, never more than two", async () => {
  const { e, b } = await setup();
  const sent: string[] = [];
  for (let round = 0; round < 5; round++) {
    const n = e.connectionLog.length;
    e.sendDisconnect(round === 2 ? "warning" : "refresh_requested");
    if (round === 3) e.sendDisconnect("refresh_requested"); // twice in a row: still one successor
    const text = `during refresh ${round}`;
    e.dm("U0REFRESH", text);
    sent.push(text);
    await waitFor(async () => e.connectionLog.length > n && e.openConnections() === 1 && (await b.rt.snapshot()).connected, `handover ${round}`);
  }
  await waitFor(() => sent.every((t) => answered(e, t)), "messages sent during the refreshes");
  expect(e.gapsWithoutConnection()).toEqual([]);
  expect(e.maxConcurrentConnections).toBeLessThanOrEqual(2);
  // Each overlap is the bot's own quick handover, not Slack's 10 s grace close.
  const log = e.connectionLog;
  expect(log.length).toBe(6);
  for (let i = 1; i < log.length; i++) {
    const overlap = log[i - 1]!.closedAt! - log[i]!.openedAt;
    expect(overlap).toBeGreaterThanOrEqual(0);
    expect(overlap).toBeLessThan(2000);
    expect(log[i - 1]!.closedAt!).toBeLessThanOrEqual(log[i + 1]?.openedAt ?? Number.POSITIVE_INFINITY);
  }
  expect(sent.map((t) => answered(e, t))).toEqual(sent.map(() => 1));
  expect((await b.rt.snapshot()).status).toBe("ok");
});

test("link_disabled: stops reconnecting, health revoked", async () => {
  const { e, b } = await setup();
  e.sendDisconnect("link_disabled");
  await waitFor(async () => (await b.rt.snapshot()).status === "revoked", "health revoked");
  await waitFor(() => e.openConnections() === 0, "socket closed");
  await assertNoMoreOpens(e);
  expect((await b.rt.snapshot()).connected).toBe(false);
});

test("tokens revoked, then a drop: stops reconnecting, health revoked, `clawdbot health` exits 2", async () => {
  const { e, b } = await setup();
  e.revokeTokens();
  e.dropSockets();
  await waitFor(async () => (await b.rt.snapshot()).status === "revoked", "health revoked");
  await assertNoMoreOpens(e);
  expect(e.openConnections()).toBe(0);
  const res = await fetch(`http://127.0.0.1:${b.rt.healthPort}/health`);
  expect(res.status).toBe(503);
  const p = await spawnBot(["health", "--url", `http://127.0.0.1:${b.rt.healthPort}/health`], {});
  expect(await p.exited).toBe(2);
  expect(p.output()).toContain("revoked");
  expect(p.output()).not.toContain(e.options.botToken);
}, 60_000);

test("deaf socket: the heartbeat canary catches it, health stale, connection replaced, ok once events flow", async () => {
  emu = await startEmulator({ ackTimeoutMs: 300 });
  emu.addChannel("C0HEARTBT", { name: "heartbeat", botMember: true });
  const e = emu;
  bot = await startBot(e, {
    CLAWDBOT_HEARTBEAT_CHANNEL: "C0HEARTBT",
    CLAWDBOT_HEARTBEAT_INTERVAL: "0.2",
    CLAWDBOT_CANARY_TIMEOUT: "0.3",
  });
  const b = bot;
  await waitFor(async () => (await b.rt.snapshot()).canary === "ok" && (await b.rt.snapshot()).status === "ok", "a canary came back");
  const n = e.connectionLog.length;
  const deafAt = Date.now();
  e.deafen(true);
  e.dm("U0DEAF001", "said while deaf");
  await waitFor(async () => (await b.rt.snapshot()).status === "stale", "health stale");
  await waitFor(() => e.connectionLog.length > n, "the deaf connection replaced");
  console.log(`deaf socket: replaced ${e.connectionLog[n]!.openedAt - deafAt} ms after it went deaf (interval 200 ms, canary 300 ms)`);
  // Still deaf on the new socket: stale it stays, even while the next canary waits.
  await waitFor(() => e.botMessages("C0HEARTBT").length >= 4, "more heartbeats while deaf");
  expect((await b.rt.snapshot()).status).toBe("stale");
  e.deafen(false);
  await waitFor(async () => (await b.rt.snapshot()).status === "ok", "ok once events flow");
  await waitFor(() => answered(e, "said while deaf"), "the message withheld while deaf");
  await waitFor(() => e.openConnections() === 1, "one socket");
  expect(answered(e, "said while deaf")).toBe(1);
});

/** No apps.connections.open for several backoff periods (RECONNECT_INITIAL is 50 ms in tests). */
async function assertNoMoreOpens(e: SlackEmulator): Promise<void> {
  const count = opens(e).length;
  const until = Date.now() + 600;
  await waitFor(() => Date.now() > until, "a few backoff periods");
  expect(opens(e).length).toBe(count);
}
