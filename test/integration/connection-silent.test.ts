// A silent socket (TCP open, nothing flows) is replaced within the liveness timeout; a
// quiet workspace (no events, but pings and pongs) is not an outage.
import { afterEach, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;

afterEach(async () => {
  await bot?.stop();
  if (emu) expect(emu.openConnections()).toBe(0);
  await emu?.stop();
  if (bot) cleanup(bot.dataDir);
  emu = bot = undefined;
});

const LIVENESS_S = 0.5;

function answered(e: SlackEmulator, text: string): number {
  return e.botMessages().filter((m) => m.text === `echo: ${text}`).length;
}

test("silent socket: replaced within the liveness timeout, messages resume, no leaked socket", async () => {
  emu = await startEmulator({ ackTimeoutMs: 300 });
  const e = emu;
  bot = await startBot(e, { CLAWDBOT_LIVENESS_TIMEOUT: String(LIVENESS_S) });
  const rt = bot.rt;
  await waitFor(async () => (await rt.snapshot()).status === "ok", "first connection");

  const before = e.connectionLog.length;
  const silentAt = Date.now();
  e.blackhole(true);
  e.dm("U0SILENT1", "sent into the void");
  const closed = await waitFor(() => e.connectionLog.slice(0, before).find((c) => c.closedAt && c.closedBy === "client"), "the silent socket closed by the bot");
  const detectMs = closed.closedAt! - silentAt;
  console.log(`silent socket detected and destroyed after ${detectMs} ms (liveness timeout ${LIVENESS_S * 1000} ms)`);
  // The check runs a few times per timeout: detection within timeout + one check period (+ slack for a busy CI).
  expect(detectMs).toBeLessThan(LIVENESS_S * 1000 * 2 + 500);

  // New sockets are black-holed too: they fail (no hello) and back off, without piling up.
  await waitFor(() => e.connectionLog.length >= before + 2, "reconnect attempts while black-holed");
  expect(e.openConnections()).toBeLessThanOrEqual(1);
  e.blackhole(false);
  e.dm("U0SILENT1", "after the silence");
  await waitFor(() => answered(e, "after the silence") && answered(e, "sent into the void"), "both messages answered", 15_000);
  await waitFor(async () => e.openConnections() === 1 && (await rt.snapshot()).status === "ok", "back to one socket and ok");
  await waitFor(() => e.envelopes.every((x) => x.acked || x.dropped), "every envelope settled");
  expect(answered(e, "sent into the void")).toBe(1);
  expect(answered(e, "after the silence")).toBe(1);
  expect(e.openConnections()).toBe(1);
}, 20_000);

test("quiet workspace: no events for longer than the liveness timeout, pongs flowing → stays ok, no reconnect", async () => {
  emu = await startEmulator({ pingIntervalMs: 100 });
  const e = emu;
  bot = await startBot(e, { CLAWDBOT_LIVENESS_TIMEOUT: String(LIVENESS_S), CLAWDBOT_STALE_AFTER: "1" });
  const rt = bot.rt;
  await waitFor(async () => (await rt.snapshot()).status === "ok", "first connection");
  const statuses = new Set<string>();
  const until = Date.now() + 1800; // 3.6 liveness timeouts, 1.8 stale-after periods
  await waitFor(async () => {
    statuses.add((await rt.snapshot()).status);
    return Date.now() > until;
  }, "a quiet spell");
  expect([...statuses]).toEqual(["ok"]);
  expect((await rt.snapshot()).reconnects).toBe(0);
  expect(e.connectionLog.length).toBe(1);
  expect(e.openConnections()).toBe(1);
  // The bot's own pings were answered (and Slack's pings reached it).
  expect(e.sockets[0]!.pongs).toBeGreaterThan(0);
}, 10_000);
