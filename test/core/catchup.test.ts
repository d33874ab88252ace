// Catch-up picks what was addressed to the bot while it was away, and nothing it answered.
import { expect, test } from "bun:test";
import { catchUp } from "../../src/core/catchup.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { type HistoryMessage, OUTBOX_EVENT_TYPE, SlackCallError } from "../../src/core/slack-port.ts";

const now = 1_800_000_000_000;
const ts = (msAgo: number) => ((now - msAgo) / 1000).toFixed(6);
const reply = (at: string): HistoryMessage => ({ ts: at, bot_id: "BBOT", user: "UBOT", text: "answer", metadata: { event_type: OUTBOX_EVENT_TYPE, event_payload: { outbox_id: 1 } } });

function run(history: Record<string, HistoryMessage[] | Error>, opts: { ims?: string[]; active?: string[]; known?: string[] } = {}) {
  const delivered: Record<string, unknown>[] = [];
  const p = catchUp({
    slack: {
      ims: async () => opts.ims ?? [],
      history: async (channel) => {
        const h = history[channel];
        if (h instanceof Error) throw h;
        return h ?? [];
      },
    },
    conversations: () => opts.active ?? [],
    known: (channel) => (opts.known ?? []).includes(channel),
    log: memoryLogger(),
    now: () => now,
    sleep: async () => {},
    botUserId: () => "UBOT",
    deliver: (_t, payload) => void delivered.push(payload),
  });
  return { p, delivered };
}

test("DMs after the bot's newest reply, and mentions in active channels, are delivered", async () => {
  const { p, delivered } = run(
    {
      D1: [{ ts: ts(1000), user: "UA", text: "new" }, reply(ts(2000)), { ts: ts(3000), user: "UA", text: "old, answered" }],
      C1: [{ ts: ts(1000), user: "UB", text: "<@UBOT> hi" }, { ts: ts(1500), user: "UB", text: "not for me" }],
      C2: [{ ts: ts(1000), user: "UB", text: "<@UBOT> in a channel we never took part in" }],
    },
    { ims: ["D1"], active: ["C1"] },
  );
  expect(await p).toBe(2);
  const events = delivered.map((d) => (d as { event: { type: string; text: string } }).event);
  expect(events).toHaveLength(2);
  expect(events).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ type: "message", text: "new" }),
      expect.objectContaining({ type: "app_mention", text: "<@UBOT> hi" }),
    ]),
  );
});

test("in a DM the store knows, a message older than a reply is still delivered (replies come out of order after an outage)", async () => {
  const { p, delivered } = run(
    { D1: [reply(ts(1000)), { ts: ts(2000), user: "UA", text: "dropped during the outage" }] },
    { ims: ["D1"], known: ["D1"] },
  );
  expect(await p).toBe(1);
  expect(delivered).toHaveLength(1);
});

test("a rate limit is waited out; an unreadable channel does not stop the others", async () => {
  let calls = 0;
  const limited = new SlackCallError({ kind: "ratelimited", retryAfterMs: 10, message: "ratelimited" });
  const delivered: unknown[] = [];
  const p = catchUp({
    slack: {
      ims: async () => ["D1", "D2"],
      history: async (channel) => {
        if (channel === "D1") throw new SlackCallError({ kind: "permanent", message: "channel_not_found" });
        if (calls++ === 0) throw limited;
        return [{ ts: ts(10), user: "UA", text: "hello" }];
      },
    },
    conversations: () => [],
    known: () => true,
    log: memoryLogger(),
    now: () => now,
    sleep: async () => {},
    botUserId: () => "UBOT",
    deliver: (_t, payload) => void delivered.push(payload),
  });
  await expect(p).rejects.toThrow("1 of 2");
  expect(delivered).toHaveLength(1);
});
