// A post that Slack executed but whose answer never came back is looked up by its
// outbox id, not blindly sent again: one message in Slack.
import { afterAll, expect, test } from "bun:test";
import { cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

test("lost response: the reply is found by its metadata and not posted twice", async () => {
  const emu = await startEmulator();
  const bot = await startBot(emu, { CLAWDBOT_SLACK_CALL_TIMEOUT_MS: "300" }, dir);
  await waitFor(async () => (await bot.rt.snapshot()).connected, "connected");
  emu.fault("chat.postMessage", { executeThenHang: true, times: 1 });
  emu.dm("UALICE", "is this posted once");
  await waitFor(async () => {
    const c = await bot.rt.store.outbox.counts();
    return c.sent >= 1 && c.pending === 0;
  }, "the outbox to settle");
  expect(emu.botMessages().filter((m) => m.text.includes("is this posted once"))).toHaveLength(1);
  // It took a lookup, not a second post.
  expect(emu.calls.filter((c) => c.method === "chat.postMessage")).toHaveLength(1);
  expect(emu.calls.some((c) => c.method === "conversations.history")).toBe(true);
  await bot.stop();
  await emu.stop();
});
