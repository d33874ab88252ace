// The kill switch is judged when a message arrives, and every paused message gets its notice.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { PAUSED_NOTICE } from "../../src/core/pipeline.ts";
import { openStore } from "../../src/store/index.ts";
import { cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

test("two identical DMs while paused get two notices (no duplicate suppression of notices)", async () => {
  const emu = await startEmulator();
  const bot = await startBot(emu, {}, join(dir, "a"));
  await bot.rt.store.settings.setPaused(true, Date.now());
  emu.dm("UALICE", "hello?");
  emu.dm("UALICE", "hello?");
  await waitFor(() => emu.botMessages().filter((m) => m.text === PAUSED_NOTICE).length === 2, "two notices");
  expect(emu.botMessages().some((m) => m.text.includes("echo: hello?"))).toBe(false);
  await bot.stop();
  await emu.stop();
});

test("a message that arrived while paused is not sent to the agent after resume", async () => {
  const emu = await startEmulator();
  const data = join(dir, "b");
  let bot = await startBot(emu, {}, data);
  await bot.rt.store.settings.setPaused(true, Date.now());
  // Record it while paused, then stop before it is answered (as a crash would).
  await bot.stop();
  const ch = emu.imChannel("UALICE");
  const store = await openStore(join(data, "clawdbot.db"));
  await store.events.record({ key: `msg:${ch}:1.1`, kind: "dm", channel: ch, ts: "1.1", user: "UALICE", text: "late one", payload: "{}", detail: "paused" }, Date.now());
  await store.settings.setPaused(false, Date.now());
  await store.close();
  bot = await startBot(emu, {}, data);
  await waitFor(() => emu.botMessages(ch).length === 1, "the answer to the late message");
  expect(emu.botMessages(ch)[0]?.text).toBe(PAUSED_NOTICE);
  await bot.stop();
  await emu.stop();
});
