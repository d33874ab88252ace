// HTTP mode: Slack's signed POSTs to /slack/events. Signed requests are answered; a forged
// signature or a replayed old timestamp gets 401 and nothing is processed; a retry is not
// processed twice; url_verification is answered.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type SlackEmulator, signRequest } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, waitFor } from "../helpers/bot.ts";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
let emu: SlackEmulator;
let bot: InProcessBot;
let url: string;

beforeAll(async () => {
  emu = await startEmulator();
  bot = await startBot(emu, { CLAWDBOT_MODE: "http", SLACK_SIGNING_SECRET: SECRET, CLAWDBOT_HTTP_PORT: "0", CLAWDBOT_APPROVERS: "U0HTTPAPP" });
  expect(bot.rt.httpPort).toBeGreaterThan(0);
  url = `http://127.0.0.1:${bot.rt.httpPort}/slack/events`;
  emu.useHttpDelivery(url, SECRET);
  await waitFor(async () => (await bot.rt.snapshot()).status === "ok", "http mode ready (signed in)");
});

afterAll(async () => {
  await bot?.stop();
  await emu?.stop();
  cleanup(bot.dataDir);
});

function answered(text: string): number {
  return emu.botMessages().filter((m) => m.text === `echo: ${text}`).length;
}

function post(body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } });
}

function signedPost(body: string, contentType: string): Promise<Response> {
  const ts = Math.floor(Date.now() / 1000);
  return post(body, { "Content-Type": contentType, "X-Slack-Request-Timestamp": String(ts), "X-Slack-Signature": signRequest(SECRET, ts, body) });
}

const forgedTs: string[] = [];

function dmEvent(text: string, eventId: string): string {
  const ts = `${(Date.now() / 1000).toFixed(6)}`;
  forgedTs.push(ts);
  return JSON.stringify({
    type: "event_callback",
    team_id: emu.options.teamId,
    api_app_id: emu.options.appId,
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    event: { type: "message", channel: emu.imChannel("U0HTTP002"), channel_type: "im", user: "U0HTTP002", text, ts },
  });
}

test("url_verification is answered with the challenge", async () => {
  const r = await emu.urlVerification(url, SECRET);
  expect(r.ok).toBe(true);
  expect(r.status).toBe(200);
});

test("a signed DM is answered once", async () => {
  emu.dm("U0HTTP001", "hello over http");
  await waitFor(() => answered("hello over http"), "the answer");
  expect(emu.httpResults.some((x) => x.status === 200)).toBe(true);
  expect(answered("hello over http")).toBe(1);
});

test("a forged signature and a replayed old timestamp get 401, nothing processed", async () => {
  const now = Math.floor(Date.now() / 1000);
  const forged = dmEvent("forged request", "Ev0FORGED1");
  const r1 = await post(forged, { "X-Slack-Request-Timestamp": String(now), "X-Slack-Signature": signRequest("not-the-secret", now, forged) });
  expect(r1.status).toBe(401);
  const old = now - 6 * 60;
  const replayed = dmEvent("replayed request", "Ev0REPLAY1");
  const r2 = await post(replayed, { "X-Slack-Request-Timestamp": String(old), "X-Slack-Signature": signRequest(SECRET, old, replayed) });
  expect(r2.status).toBe(401);
  const r3 = await post(replayed, {}); // no signature at all
  expect(r3.status).toBe(401);
  // A signed control message proves the bot is processing, so the absence below is real.
  const control = emu.dm("U0HTTP001", "control after forgeries");
  await waitFor(() => answered("control after forgeries"), "the control message");
  expect(answered("forged request")).toBe(0);
  expect(answered("replayed request")).toBe(0);
  // Not even recorded: a forged request never reaches the store.
  expect(await bot.rt.store.events.get(`msg:${control.channel}:${control.ts}`)).not.toBeNull(); // the key is right
  const ch = emu.imChannel("U0HTTP002");
  for (const ts of forgedTs) expect(await bot.rt.store.events.get(`msg:${ch}:${ts}`)).toBeNull();
});

test("a retry (X-Slack-Retry-Num) of a processed event is acknowledged and not processed twice", async () => {
  const d = emu.dm("U0HTTP001", "retried over http");
  await waitFor(() => answered("retried over http"), "the first answer");
  const rec = emu.envelopes.find((e) => e.envelope_id === d.envelope_id)!;
  const body = JSON.stringify(rec.payload);
  for (const n of [1, 2]) {
    const ts = Math.floor(Date.now() / 1000);
    const r = await post(body, {
      "X-Slack-Request-Timestamp": String(ts),
      "X-Slack-Signature": signRequest(SECRET, ts, body),
      "X-Slack-Retry-Num": String(n),
      "X-Slack-Retry-Reason": "http_timeout",
    });
    expect(r.status).toBe(200);
  }
  emu.dm("U0HTTP001", "control after retries");
  await waitFor(() => answered("control after retries"), "the control message");
  await waitFor(async () => (await bot.rt.snapshot()).outbox_pending === 0, "outbox drained");
  expect(answered("retried over http")).toBe(1);
});

test("a signed slash command replayed without trigger_id makes one approval, not one per copy", async () => {
  const cards = (channel: string) => emu.botMessages(channel).filter((m) => JSON.stringify(m.blocks ?? []).includes("approval_approve")).length;
  const channel = "C0HTTPREPLAY";
  emu.addChannel(channel);
  const d = emu.slash("U0HTTP003", channel, "exec echo replayed");
  await waitFor(() => cards(channel) === 1, "the card of the real command");
  // An attacker holding one signed request without trigger_id sends it three times, each within the signature's window.
  const rec = emu.envelopes.find((e) => e.envelope_id === d.envelope_id)!;
  const { trigger_id: _, ...payload } = rec.payload as Record<string, unknown>;
  const body = new URLSearchParams(Object.entries(payload).map(([k, v]): [string, string] => [k, String(v)])).toString();
  for (let i = 0; i < 3; i++) expect((await signedPost(body, "application/x-www-form-urlencoded")).status).toBe(200);
  emu.dm("U0HTTP001", "control after replays");
  await waitFor(() => answered("control after replays"), "the control message");
  await waitFor(async () => (await bot.rt.store.events.unanswered()).length === 0, "every recorded event answered");
  await waitFor(async () => (await bot.rt.snapshot()).outbox_pending === 0, "outbox drained");
  expect(cards(channel)).toBe(2); // the real one and one for the replayed body
  expect((await bot.rt.store.approvals.list()).filter((a) => a.text === "echo replayed")).toHaveLength(2);
});

test("the public events port serves POST /slack/events only: health, metrics and the rest are 404", async () => {
  const base = `http://127.0.0.1:${bot.rt.httpPort}`;
  for (const path of ["/health", "/metrics", "/", "/slack/events"]) {
    expect({ path, status: (await fetch(base + path)).status }).toEqual({ path, status: 404 });
  }
  // The loopback health server still answers them.
  expect((await fetch(`http://127.0.0.1:${bot.rt.healthPort}/health`)).status).toBe(200);
});
