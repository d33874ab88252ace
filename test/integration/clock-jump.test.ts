// The wall clock jumps (NTP, a user, a VM resumed) while time runs on steadily: intervals and
// timeouts are measured on the monotonic clock, so dead-socket detection and `stale` come on
// time and nothing fires early. The bot runs in process with a clock whose wall reading a test
// can move; its monotonic reading and its timers are the system's.
import { afterEach, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import type { Clock } from "../../src/core/clock.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { type Runtime, startRuntime } from "../../src/runtime.ts";
import { botEnv, cleanup, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

const HOUR = 60 * 60 * 1000;

class JumpingClock implements Clock {
  offset = 0;
  now = () => Date.now() + this.offset;
  mono = () => performance.now();
  setTimeout = (fn: () => void, ms: number) => setTimeout(fn, ms);
  clearTimeout = (t: ReturnType<typeof setTimeout>) => clearTimeout(t);
}

let emu: SlackEmulator | undefined;
let rt: Runtime | undefined;
let dir: string | undefined;

afterEach(async () => {
  await rt?.stop();
  await emu?.stop();
  if (dir) cleanup(dir);
  emu = rt = dir = undefined;
});

async function start(emuPingMs: number, extra: Record<string, string>): Promise<{ e: SlackEmulator; r: Runtime; clock: JumpingClock }> {
  const e = await startEmulator({ pingIntervalMs: emuPingMs });
  emu = e;
  const d = tempDir();
  dir = d;
  const clock = new JumpingClock();
  const env = botEnv(e, d, extra);
  const r = await startRuntime({ config: loadConfig(env), clock, consoleLevel: Number(env.CLAWDBOT_CONSOLE_LEVEL) });
  rt = r;
  await waitFor(async () => (await r.snapshot()).status === "ok", "connected and ok");
  return { e, r, clock };
}

test("the wall clock an hour ahead: health stays ok and the live socket is kept", async () => {
  const LIVENESS_MS = 600;
  // No pings from Slack: the socket lives on the pongs to the bot's own pings.
  const { e, r, clock } = await start(0, { CLAWDBOT_LIVENESS_TIMEOUT: String(LIVENESS_MS / 1000) });
  const sockets = e.connectionLog.length;
  clock.offset += HOUR;
  expect((await r.snapshot()).status).toBe("ok");
  // Absence takes time to show: the liveness check runs a few times per timeout, so twice the
  // timeout is time enough for it to have replaced the socket had it counted the jump.
  const jumpedAt = performance.now();
  await waitFor(() => performance.now() - jumpedAt > 2 * LIVENESS_MS, "twice the liveness timeout");
  const s = await r.snapshot();
  expect(s.status).toBe("ok");
  expect(s.reconnects).toBe(0);
  expect(e.connectionLog.length).toBe(sockets);
  expect(s.uptime_s).toBeLessThan(60);
});

test("the wall clock an hour behind: a silent socket is still stale and replaced on time", async () => {
  const LIVENESS_MS = 2000;
  // Slack pings every 50 ms: until the silence, health never has a reason to say stale.
  const { e, r, clock } = await start(50, { CLAWDBOT_LIVENESS_TIMEOUT: String(LIVENESS_MS / 1000), CLAWDBOT_STALE_AFTER: "0.3" });
  const before = e.connectionLog.length;
  clock.offset -= HOUR;
  const silentAt = Date.now();
  e.blackhole(true);
  await waitFor(async () => (await r.snapshot()).status === "stale", "stale after CLAWDBOT_STALE_AFTER of silence", 5000);
  const closed = await waitFor(() => e.connectionLog.slice(0, before).find((c) => c.closedAt && c.closedBy === "client"), "the silent socket replaced", 5000);
  // The check runs a few times per timeout: within timeout + one check period (+ slack for a busy CI).
  expect(closed.closedAt! - silentAt).toBeLessThan(LIVENESS_MS * 1.5 + 500);
  e.blackhole(false);
  await waitFor(async () => (await r.snapshot()).status === "ok", "connected again and ok");
}, 15_000);
