// Bolt routes what needs an answer to the pipeline, with our inbound key, and nothing else.
import { expect, test } from "bun:test";
import { memoryLogger } from "../../src/core/logger.ts";
import type { InboundEvent } from "../../src/core/store.ts";
import { BoltRouter } from "../../src/slack/bolt-router.ts";

function router() {
  const answered: string[] = [];
  const records: (InboundEvent | undefined)[] = [];
  const r = new BoltRouter({
    botToken: "xoxb-test",
    apiUrl: "http://127.0.0.1:9/api/",
    log: memoryLogger(),
    identity: () => ({ botUserId: "UBOT", botId: "BBOT" }),
    answer: async (key, recorded) => {
      answered.push(key);
      records.push(recorded);
    },
  });
  return { r, answered, records };
}

const callback = (event: Record<string, unknown>) => ({
  type: "event_callback",
  team_id: "T1",
  api_app_id: "A1",
  event_id: `Ev${Math.random()}`,
  event,
});

test("DMs, mentions, /claw and approval clicks reach the pipeline with their key", async () => {
  const { r, answered } = router();
  await r.dispatch(callback({ type: "message", channel: "D1", channel_type: "im", user: "U1", text: "hi", ts: "1.1" }), "msg:D1:1.1");
  await r.dispatch(callback({ type: "app_mention", channel: "C1", user: "U1", text: "<@UBOT> hi", ts: "1.2" }), "msg:C1:1.2");
  await r.dispatch({ command: "/claw", text: "status", user_id: "U1", channel_id: "C1", team_id: "T1", trigger_id: "t1" }, "cmd:t1");
  await r.dispatch(
    {
      type: "block_actions",
      team: { id: "T1" },
      user: { id: "U1" },
      channel: { id: "C1" },
      container: { type: "message", message_ts: "1.3", channel_id: "C1" },
      actions: [{ action_id: "approval_approve", value: "ap_1", type: "button", block_id: "b", action_ts: "1.4" }],
      trigger_id: "t2",
    },
    "act:t2:1.4",
  );
  expect(answered).toEqual(["msg:D1:1.1", "msg:C1:1.2", "cmd:t1", "act:t2:1.4"]);
});

test("bolt's own middleware drops the bot's own messages", async () => {
  const { r, answered } = router();
  await r.dispatch(callback({ type: "message", channel: "D1", channel_type: "im", user: "UBOT", bot_id: "BBOT", text: "me", ts: "2.1" }), "k");
  expect(answered).toEqual([]);
});

test("the event as recorded goes with its key to the pipeline", async () => {
  const { r, records } = router();
  const recorded: InboundEvent = {
    id: 7,
    key: "msg:D1:3.1",
    kind: "dm",
    channel: "D1",
    ts: "3.1",
    threadTs: null,
    user: "U1",
    text: "hi",
    payload: "{}",
    status: "received",
    detail: null,
    receivedAt: 1,
  };
  await r.dispatch(callback({ type: "message", channel: "D1", channel_type: "im", user: "U1", text: "hi", ts: "3.1" }), recorded.key, recorded);
  expect(records).toEqual([recorded]);
});
