// The official SDK's SocketModeClient against the emulator: the wire format must satisfy it.
import { afterEach, expect, test } from "bun:test";
import { SocketModeClient } from "@slack/socket-mode";
import { SlackEmulator } from "../../src/emulator/index.ts";

let emu: SlackEmulator;
let client: SocketModeClient | undefined;
afterEach(async () => {
  await client?.disconnect().catch(() => undefined);
  await emu.stop();
});

test("SocketModeClient connects, receives events and slash commands, acks them", async () => {
  emu = new SlackEmulator({ pingIntervalMs: 0 });
  await emu.start();
  client = new SocketModeClient({
    appToken: emu.options.appToken,
    clientOptions: { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } },
    logLevel: "error" as never,
  });
  const seen: string[] = [];
  client.on("message", async ({ event, ack }: { event: { text: string }; ack: () => Promise<void> }) => {
    await ack();
    seen.push(event.text);
  });
  client.on("slash_commands", async ({ body, ack }: { body: { text: string }; ack: (r?: unknown) => Promise<void> }) => {
    await ack({ text: `got ${body.text}` });
  });
  await client.start();
  const d = emu.dm("U1", "sdk hello");
  await emu.waitFor(() => seen.includes("sdk hello"), { what: "SDK saw the DM" });
  await emu.waitFor(() => emu.envelopes.find((e) => e.envelope_id === d.envelope_id)?.acked, { what: "SDK ack" });
  emu.addChannel("CGEN");
  emu.slash("U1", "CGEN", "status");
  await emu.waitFor(() => emu.messages("CGEN").find((m) => m.text === "got status"), { what: "slash ack payload" });
  expect(emu.openConnections()).toBe(1);
});
