// No token or secret in a log line, the store, a health answer or /metrics.
import { afterAll, expect, test } from "bun:test";
import { makeRedactor } from "../../src/core/redact.ts";
import { cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

test("redactor removes configured secrets and anything shaped like a Slack or Anthropic token", () => {
  const r = makeRedactor(["s3cr3t-signing"]);
  expect(r("sig s3cr3t-signing!")).toBe("sig [redacted]!");
  expect(r("token xoxb-123-456-abc")).not.toContain("123-456");
  expect(r("app xapp-1-A0-1-f00")).not.toContain("A0-1-f00");
  expect(r("key sk-ant-api03-abc_def")).not.toContain("abc_def");
});

const dir = tempDir();
afterAll(() => cleanup(dir));

test("the store's logs, health and metrics never carry the tokens", async () => {
  const botToken = "xoxb-emulator-very-secret-1";
  const emu = await startEmulator({ botToken, appToken: "xapp-emulator-very-secret-2" });
  const bot = await startBot(emu, { SLACK_SIGNING_SECRET: "signing-secret-3" }, dir);
  emu.dm("UALICE", `please echo ${botToken}`);
  await waitFor(() => emu.botMessages().length > 0, "reply");
  emu.revokeTokens();
  emu.dropSockets();
  await waitFor(() => bot.rt.snapshot().status === "revoked", "revoked");
  const health = JSON.stringify(bot.rt.snapshot());
  const logs = bot.rt.store.logs.tail(1000).map((l) => `${l.msg} ${l.fields ?? ""}`).join("\n");
  for (const secret of ["very-secret-1", "very-secret-2", "signing-secret-3"]) {
    expect(health).not.toContain(secret);
    expect(logs).not.toContain(secret);
  }
  expect(logs).toContain("revoked");
  // A user who pastes a token: it is stored redacted, and so never reaches the agent or a reply.
  const stored = JSON.stringify(bot.rt.store.db.query("SELECT text, payload FROM events").all());
  expect(stored).not.toContain("very-secret-1");
  expect(emu.botMessages().map((m) => m.text).join()).not.toContain("very-secret-1");
  await bot.stop();
  await emu.stop();
});
