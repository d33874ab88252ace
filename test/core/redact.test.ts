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
  const dm = emu.dm("UALICE", `please echo ${botToken}`);
  await waitFor(() => emu.botMessages().length > 0, "reply");
  emu.revokeTokens();
  emu.dropSockets();
  await waitFor(async () => (await bot.rt.snapshot()).status === "revoked", "revoked");
  const health = JSON.stringify(await bot.rt.snapshot());
  const logs = (await bot.rt.store.logs.tail(1000)).map((l) => `${l.msg} ${l.fields ?? ""}`).join("\n");
  for (const secret of ["very-secret-1", "very-secret-2", "signing-secret-3"]) {
    expect(health).not.toContain(secret);
    expect(logs).not.toContain(secret);
  }
  expect(logs).toContain("revoked");
  // A user who pastes a token: it is stored redacted, and so never reaches the agent or a reply.
  const stored = await bot.rt.store.events.get(`msg:${dm.channel}:${dm.ts}`);
  expect(stored?.text).toContain("please echo");
  expect(JSON.stringify(stored)).not.toContain("very-secret-1");
  expect(emu.botMessages().map((m) => m.text).join()).not.toContain("very-secret-1");
  await bot.stop();
  await emu.stop();
});

test("a URL's password and Slack's verification token in a payload are redacted", () => {
  const r = makeRedactor([]);
  const line = r("relay https://bot:pa55word-x@relay.example/context failed; http://u:p%40ss@h:1/x");
  expect(line).not.toContain("pa55word");
  expect(line).not.toContain("p%40ss");
  expect(line).toContain("https://bot:[redacted]@relay.example/context");
  const payload = r(JSON.stringify({ token: "Verif1cationTok3n", event: { text: 'say "token":"x"' } }));
  expect(payload).not.toContain("Verif1cationTok3n");
  expect(JSON.parse(payload).event.text).toBe('say "token":"x"');
  expect(r('{"token" : "abc-def"}')).toBe('{"token" : "[redacted]"}');
});
