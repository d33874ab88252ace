// What Slack delivers becomes an inbound record: the dedupe key, the kind, and what is
// noise (acked at once, never recorded).
import { expect, test } from "bun:test";
import { classify } from "../../src/core/inbound.ts";

const me = { botUserId: "UBOT", botId: "BBOT" };
const cb = (event: Record<string, unknown>, event_id = "Ev1") => ({ type: "event_callback", event_id, event });

test("a DM is keyed by channel and ts, so a redelivery or a catch-up of it is the same record", () => {
  const a = classify("events_api", cb({ type: "message", channel_type: "im", channel: "D1", user: "U1", text: "hi", ts: "1.1" }, "Ev1"), me);
  const b = classify("events_api", cb({ type: "message", channel_type: "im", channel: "D1", user: "U1", text: "hi", ts: "1.1" }, "catchup:D1:1.1"), me);
  expect(a.event).toMatchObject({ key: "msg:D1:1.1", kind: "dm" });
  expect(b.event.key).toBe(a.event.key);
});

test("a mention answers in its thread; the channel `message` twin of it is noise", () => {
  const m = classify("events_api", cb({ type: "app_mention", channel: "C1", user: "U1", text: "<@UBOT> hi", ts: "2.1" }), me);
  expect(m.event).toMatchObject({ key: "msg:C1:2.1", kind: "mention", threadTs: "2.1" });
  const twin = classify("events_api", cb({ type: "message", channel_type: "channel", channel: "C1", user: "U1", text: "<@UBOT> hi", ts: "2.1" }, "Ev2"), me);
  expect(twin.event).toMatchObject({ kind: "other", status: "ignored", payload: "{}" });
});

test("edits, deletions, other bots and our own messages are ignored; our own is the canary", () => {
  for (const ev of [
    { type: "message", subtype: "message_changed", channel: "D1", channel_type: "im", ts: "3.1" },
    { type: "message", subtype: "message_deleted", channel: "D1", channel_type: "im", ts: "3.2" },
    { type: "message", bot_id: "BOTHER", channel: "D1", channel_type: "im", user: "UOTHER", ts: "3.3" },
  ]) {
    expect(classify("events_api", cb(ev), me).event.status).toBe("ignored");
  }
  const own = classify("events_api", cb({ type: "message", bot_id: "BBOT", user: "UBOT", channel: "CHB", ts: "3.4" }), me);
  expect(own.event.status).toBe("ignored");
  expect(own.canary).toBe(true);
});

test("every other event type is noise (status ignored, no payload kept); revocation is terminal", () => {
  for (const type of ["reaction_added", "member_joined_channel", "app_home_opened", "something_new"]) {
    const c = classify("events_api", cb({ type }, `Ev-${type}`), me);
    expect(c.event).toMatchObject({ key: `ev:Ev-${type}`, kind: "other", status: "ignored", payload: "{}", text: type });
  }
  expect(classify("events_api", cb({ type: "tokens_revoked" }), me).terminal).toBe("tokens_revoked");
  expect(classify("events_api", cb({ type: "app_uninstalled" }), me).terminal).toBe("app_uninstalled");
});

test("slash commands and approval clicks", () => {
  expect(classify("slash_commands", { command: "/claw", text: "status", trigger_id: "T1", user_id: "U1", channel_id: "C1" }, me).event).toMatchObject({
    key: "cmd:T1",
    kind: "slash",
    text: "status",
  });
  const click = classify(
    "interactive",
    { type: "block_actions", trigger_id: "T2", user: { id: "U1" }, channel: { id: "C1" }, actions: [{ action_id: "approval_approve", value: "ap_1", action_ts: "9.9" }] },
    me,
  );
  expect(click.event).toMatchObject({ key: "act:T2:9.9", kind: "action", text: "ap_1", status: "received" });
  const other = classify("interactive", { type: "block_actions", trigger_id: "T3", actions: [{ action_id: "something_else", action_ts: "1" }] }, me);
  expect(other.event.status).toBe("ignored");
});

test("a slash command or click without trigger_id is keyed by its body: a replay is the same record", () => {
  const cmd = { command: "/claw", text: "exec echo hi", user_id: "U1", channel_id: "C1", response_url: "https://hooks/1" };
  const key = classify("slash_commands", cmd, me).event.key;
  expect(key).toStartWith("cmd:body:");
  expect(classify("slash_commands", { ...cmd }, me).event.key).toBe(key);
  expect(classify("slash_commands", { ...cmd, response_url: "https://hooks/2" }, me).event.key).not.toBe(key);
  const click = { type: "block_actions", user: { id: "U1" }, actions: [{ action_id: "approval_deny", value: "ap_1" }] };
  expect(classify("interactive", click, me).event.key).toBe(classify("interactive", structuredClone(click), me).event.key);
});
