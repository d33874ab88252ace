// A second `clawdbot run` on the same host (Task Scheduler starting one while the first
// still runs) stops at once with exit 2, before it touches Slack or the store.
import { afterAll, expect, test } from "bun:test";
import { botEnv, cleanup, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

test("the health port is the single-instance lock", async () => {
  const emu = await startEmulator();
  const first = await spawnBot(["run"], botEnv(emu, dir));
  const port = await first.healthPort();
  await waitFor(() => emu.openConnections() === 1, "the first bot's socket");
  const opensBefore = emu.calls.filter((c) => c.method === "apps.connections.open").length;

  const second = await spawnBot(["run"], botEnv(emu, dir, { CLAWDBOT_HEALTH_PORT: String(port) }));
  expect(await second.exited).toBe(2);
  const lines = second.output().trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain("CLAWDBOT_HEALTH_PORT");
  // It never went to Slack, and the first one still answers.
  expect(emu.calls.filter((c) => c.method === "apps.connections.open").length).toBe(opensBefore);
  expect(emu.maxConcurrentConnections).toBe(1);
  emu.dm("UALICE", "still here?");
  await waitFor(() => emu.botMessages().find((m) => m.text.includes("still here?")), "the first bot's answer");

  first.proc.kill("SIGTERM");
  expect(await first.exited).toBe(0);
  await emu.stop();
});
