// The relay is never on the critical path: down, slow or failing, replies still arrive
// and the failures are counted in health.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { type RelayMode, type RelayStandIn, startRelayStandIn } from "../stand-ins/relay.ts";

let emu: SlackEmulator;
let dir: string;
let bot: InProcessBot;
let relay: RelayStandIn;
beforeEach(async () => {
  emu = await startEmulator();
  relay = startRelayStandIn();
  dir = tempDir();
    // The contract's 6 s per attempt, shortened so a hanging relay costs the test little.
  bot = await startBot(emu, { CLAWDBOT_RELAY_URL: relay.url, CLAWDBOT_RELAY_TIMEOUT_MS: "200" }, dir);
  await waitFor(() => emu.openConnections() === 1, "the bot's socket");
});
afterEach(async () => {
  await bot.stop();
  relay.stop();
  await emu.stop();
  cleanup(dir);
});

const replies = (text: string) => emu.botMessages().filter((m) => m.text.includes(text));

describe("relay trouble", () => {
  test("healthy relay: context asked, messages in and out logged, no failures", async () => {
    emu.dm("UALICE", "with context");
    await waitFor(() => replies("with context").length === 1, "reply");
    await waitFor(() => relay.callsTo("/log").length === 2, "in and out logged");
    expect(relay.callsTo("/context")).toHaveLength(1);
    expect((await bot.rt.snapshot()).relay_failures).toBe(0);
  });

  for (const [name, mode] of [
    ["down", { mode: "down" }],
    ["slow", { mode: "slow", delayMs: 1500 }],
    ["500", { mode: "error", status: 500 }],
  ] as [string, RelayMode][]) {
    test(`relay ${name}: the reply still arrives, once, and relay_failures is counted`, async () => {
      relay.setMode(mode);
      emu.dm("UALICE", `relay is ${name}`);
      await waitFor(() => replies(`relay is ${name}`).length === 1, "reply despite the relay", 10_000);
      await waitFor(async () => (await bot.rt.snapshot()).relay_failures >= 1, "relay_failures counted", 10_000);
      emu.dm("UBOB", `after relay ${name}`);
      await waitFor(() => replies(`after relay ${name}`).length === 1, "a second reply");
      expect(replies(`relay is ${name}`)).toHaveLength(1);
    });
  }
});
