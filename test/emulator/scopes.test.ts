// Granted scopes: missing_scope with needed/provided, x-oauth-scopes on every answer.
import { afterEach, expect, test } from "bun:test";
import { SlackEmulator } from "../../src/emulator/index.ts";
import { methodTable } from "../../src/emulator/web-api/index.ts";
import { botScopeNames } from "../../src/slack/app-requirements.ts";
import { botClient } from "./helpers.ts";

let emu: SlackEmulator;
afterEach(async () => {
  await emu.stop();
});

async function start(scopes?: string[]): Promise<SlackEmulator> {
  emu = new SlackEmulator({ pingIntervalMs: 0, ...(scopes ? { scopes } : {}) });
  await emu.start();
  return emu;
}

test("by default the bot has every scope the product asks for; auth.test carries them in x-oauth-scopes", async () => {
  await start();
  expect(emu.scopes.sort()).toEqual(botScopeNames().sort());
  const res = await botClient(emu).auth.test();
  expect(res.response_metadata?.scopes?.sort()).toEqual(botScopeNames().sort());
  const raw = await fetch(`${emu.apiUrl}chat.postMessage`, {
    method: "POST",
    headers: { Authorization: `Bearer ${emu.options.botToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ channel: "CNOPE", text: "x" }),
  });
  expect(raw.headers.get("x-oauth-scopes")).toBe(emu.scopes.join(","));
  expect(raw.headers.get("x-accepted-oauth-scopes")).toBe("chat:write");
});

test("a method without its scope answers missing_scope with needed and provided, and does nothing", async () => {
  await start(["channels:history"]);
  emu.addChannel("CGEN");
  const err = await botClient(emu).chat.postMessage({ channel: "CGEN", text: "x" }).catch((e: unknown) => e);
  expect(err).toMatchObject({ data: { ok: false, error: "missing_scope", needed: "chat:write", provided: "channels:history" } });
  expect(emu.botMessages()).toHaveLength(0);
  expect((await botClient(emu).conversations.history({ channel: "CGEN" })).ok).toBe(true);
});

test("per-conversation scopes: history of an IM needs im:history, of a channel channels:history", async () => {
  await start();
  emu.addChannel("CGEN");
  const dm = emu.imChannel("U1");
  emu.revokeScopes("im:history");
  await expect(botClient(emu).conversations.history({ channel: dm })).rejects.toMatchObject({
    data: { error: "missing_scope", needed: "im:history" },
  });
  expect((await botClient(emu).conversations.history({ channel: "CGEN" })).ok).toBe(true);
  emu.setScopes(botScopeNames());
  expect((await botClient(emu).conversations.history({ channel: dm })).ok).toBe(true);
});

test("each method checks its documented scope", async () => {
  await start();
  emu.addChannel("CGEN", { members: ["U1"] });
  const ts = emu.channelMessage("U1", "CGEN", "hi").ts;
  const client = botClient(emu);
  const cases: [string, () => Promise<unknown>][] = [
    ["users:read", () => client.users.info({ user: "U1" })],
    ["reactions:write", () => client.reactions.add({ channel: "CGEN", timestamp: ts, name: "eyes" })],
    ["im:write", () => client.conversations.open({ users: "U1" })],
    ["files:write", () => client.files.getUploadURLExternal({ filename: "a.txt", length: 1 })],
    ["chat:write", () => client.assistant.threads.setStatus({ channel_id: "CGEN", thread_ts: ts, status: "thinking" })],
    ["chat:write", () => client.chat.startStream({ channel: "CGEN", thread_ts: ts, recipient_user_id: "U1", recipient_team_id: "T0001" })],
    ["channels:read", () => client.conversations.info({ channel: "CGEN" })],
  ];
  for (const [scope, call] of cases) {
    emu.setScopes(botScopeNames().filter((s) => s !== scope));
    await expect(call()).rejects.toMatchObject({ data: { error: "missing_scope", needed: scope } });
  }
});

test("every method the emulator speaks declares its scopes, and the product's list covers the bot's methods", async () => {
  await start();
  const granted = new Set(botScopeNames());
  const used = ["chat.postMessage", "chat.update", "chat.postEphemeral", "chat.startStream", "chat.appendStream", "chat.stopStream",
    "assistant.threads.setStatus", "reactions.add", "reactions.remove", "conversations.history", "conversations.replies",
    "conversations.info", "conversations.open", "users.conversations", "users.info", "files.getUploadURLExternal", "files.completeUploadExternal"];
  for (const m of used) {
    const spec = methodTable[m];
    expect(spec, m).toBeDefined();
    const scopes = Array.isArray(spec!.scopes) ? spec!.scopes : Object.values(spec!.scopes).filter((s) => s !== "channels:manage" && s !== "groups:write" && s !== "mpim:write");
    for (const s of scopes) expect(granted.has(s), `${m} needs ${s}`).toBe(true);
  }
});

test("revoked tokens: invalid_auth, and no scope headers", async () => {
  await start();
  emu.revokeTokens();
  await expect(botClient(emu).auth.test()).rejects.toMatchObject({ data: { error: "invalid_auth" } });
  const res = await fetch(`${emu.apiUrl}auth.test`, { method: "POST", headers: { Authorization: `Bearer ${emu.options.botToken}` } });
  expect(res.headers.get("x-oauth-scopes")).toBeNull();
});
