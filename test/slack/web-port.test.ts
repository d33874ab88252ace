// The Web API port against the emulator: paging, and how failures are classified.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import type { SlackCallError } from "../../src/core/slack-port.ts";
import { WebPort } from "../../src/slack/web-port.ts";
import { startEmulator } from "../helpers/bot.ts";

let emu: SlackEmulator;
let port: WebPort;
beforeAll(async () => {
  emu = await startEmulator();
  emu.addChannel("CPAGES", { botMember: true });
  port = new WebPort(emu.options.botToken, emu.apiUrl, { timeoutMs: 2000 });
});
afterAll(() => emu.stop());

test("history follows the cursor past one page, up to the limit", async () => {
  for (let i = 0; i < 450; i++) emu.channelMessage("UALICE", "CPAGES", `m${i}`);
  expect(await port.history("CPAGES", "0", 1000)).toHaveLength(450);
  expect(await port.history("CPAGES", "0", 250)).toHaveLength(250);
});

test("failures are classified: rate limit with Retry-After, permanent, transient, revoked", async () => {
  const kind = async (fault: Parameters<SlackEmulator["fault"]>[1]) => {
    emu.fault("chat.postMessage", { ...fault, times: 1 });
    try {
      await port.post({ channel: "CPAGES", text: "x", outboxId: 1 });
      return "sent";
    } catch (err) {
      return (err as SlackCallError).failure;
    }
  };
  expect(await kind({ status: 429, retryAfter: 3 })).toMatchObject({ kind: "ratelimited", retryAfterMs: 3000 });
  expect(await kind({ error: "channel_not_found" })).toMatchObject({ kind: "permanent", message: "channel_not_found" });
  expect(await kind({ status: 503 })).toMatchObject({ kind: "transient" });
  expect(await kind({ error: "invalid_auth" })).toMatchObject({ kind: "revoked" });
  expect(await kind({})).toBe("sent");
});
