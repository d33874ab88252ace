// Catch-up picks what was addressed to the bot while it was away, and nothing it answered.
import { expect, test } from "bun:test";
import { CALLS_PER_RUN, CatchupState, catchUp } from "../../src/core/catchup.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { type HistoryMessage, OUTBOX_EVENT_TYPE, SlackCallError } from "../../src/core/slack-port.ts";

const now = 1_800_000_000_000;
const ts = (msAgo: number) => ((now - msAgo) / 1000).toFixed(6);
const reply = (at: string): HistoryMessage => ({ ts: at, bot_id: "BBOT", user: "UBOT", text: "answer", metadata: { event_type: OUTBOX_EVENT_TYPE, event_payload: { outbox_id: 1 } } });

interface RunOpts {
  ims?: string[];
  active?: string[];
  known?: string[];
  /** Thread replies by `channel:threadTs`, parent first as Slack returns them. */
  threads?: Record<string, HistoryMessage[] | Error>;
  /** Threads the store knows of. */
  storeThreads?: { channel: string; threadTs: string }[];
}

function run(history: Record<string, HistoryMessage[] | Error>, opts: RunOpts = {}) {
  const delivered: Record<string, unknown>[] = [];
  const repliesRead: string[] = [];
  const p = catchUp({
    slack: {
      ims: async () => opts.ims ?? [],
      history: async (channel) => {
        const h = history[channel];
        if (h instanceof Error) throw h;
        return h ?? [];
      },
      replies: async (channel, threadTs) => {
        repliesRead.push(`${channel}:${threadTs}`);
        const r = opts.threads?.[`${channel}:${threadTs}`];
        if (r instanceof Error) throw r;
        return r ?? [];
      },
    },
    conversations: async () => opts.active ?? [],
    threads: async () => opts.storeThreads ?? [],
    known: async (channel) => (opts.known ?? []).includes(channel),
    log: memoryLogger(),
    now: () => now,
    sleep: async () => {},
    botUserId: () => "UBOT",
    deliver: async (_t, payload) => void delivered.push(payload),
  });
  return { p, delivered, repliesRead };
}

type Ev = { type: string; text: string; thread_ts?: string; ts: string };
const events = (delivered: Record<string, unknown>[]) => delivered.map((d) => (d as { event: Ev }).event);

test("DMs after the bot's newest reply, and mentions in active channels, are delivered", async () => {
  const { p, delivered } = run(
    {
      D1: [{ ts: ts(1000), user: "UA", text: "new" }, reply(ts(2000)), { ts: ts(3000), user: "UA", text: "old, answered" }],
      C1: [{ ts: ts(1000), user: "UB", text: "<@UBOT> hi" }, { ts: ts(1500), user: "UB", text: "not for me" }],
      C2: [{ ts: ts(1000), user: "UB", text: "<@UBOT> in a channel we never took part in" }],
    },
    { ims: ["D1"], active: ["C1"] },
  );
  expect((await p).found).toBe(2);
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
  expect((await p).found).toBe(1);
  expect(delivered).toHaveLength(1);
});

test("a rate limit is waited out; a channel Slack refuses for good does not stop the others and is no failure", async () => {
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
      replies: async () => [],
    },
    conversations: async () => [],
    known: async () => true,
    log: memoryLogger(),
    now: () => now,
    sleep: async () => {},
    botUserId: () => "UBOT",
    deliver: async (_t, payload) => void delivered.push(payload),
  });
  expect(await p).toEqual({ found: 1, left: 0 });
  expect(delivered).toHaveLength(1);
});

test("mentions in a thread whose parent is in the window are delivered with their thread_ts", async () => {
  const parent = ts(30 * 60_000);
  const { p, delivered, repliesRead } = run(
    {
      C1: [
        { ts: parent, user: "UB", text: "<@UBOT> question", reply_count: 3, latest_reply: ts(1000) },
        { ts: ts(40 * 60_000), user: "UB", text: "no thread" },
      ],
    },
    {
      active: ["C1"],
      threads: {
        [`C1:${parent}`]: [
          { ts: parent, thread_ts: parent, user: "UB", text: "<@UBOT> question" },
          { ts: ts(20 * 60_000), thread_ts: parent, user: "UBOT", bot_id: "BBOT", text: "answer" },
          { ts: ts(2000), thread_ts: parent, user: "UC", text: "not for the bot" },
          { ts: ts(1000), thread_ts: parent, user: "UB", text: "<@UBOT> follow up" },
        ],
      },
    },
  );
  expect((await p).found).toBe(2);
  // A message without replies is not read as a thread.
  expect(repliesRead).toEqual([`C1:${parent}`]);
  const ev = events(delivered);
  expect(ev).toEqual([
    expect.objectContaining({ type: "app_mention", text: "<@UBOT> question", ts: parent }),
    expect.objectContaining({ type: "app_mention", text: "<@UBOT> follow up", thread_ts: parent, ts: ts(1000) }),
  ]);
});

test("threads the store knows, with parents older than the window, are read; replies before the window are not delivered", async () => {
  const oldParent = ts(3 * 60 * 60_000);
  const dmParent = ts(5 * 60 * 60_000);
  const { p, delivered } = run(
    { C1: [] },
    {
      active: ["C1"],
      ims: ["D1"],
      known: ["D1"],
      storeThreads: [
        { channel: "C1", threadTs: oldParent },
        { channel: "D1", threadTs: dmParent },
        { channel: "C1", threadTs: "1.000000" }, // parent deleted
      ],
      threads: {
        [`C1:${oldParent}`]: [
          { ts: oldParent, thread_ts: oldParent, user: "UB", text: "<@UBOT> old question" },
          { ts: ts(2 * 60 * 60_000), thread_ts: oldParent, user: "UB", text: "<@UBOT> before the window" },
          { ts: ts(5000), thread_ts: oldParent, user: "UB", text: "<@UBOT> follow up" },
        ],
        [`D1:${dmParent}`]: [
          { ts: dmParent, thread_ts: dmParent, user: "UA", text: "dm parent" },
          { ts: ts(4000), thread_ts: dmParent, user: "UA", text: "any reply in a DM thread" },
        ],
        "C1:1.000000": new SlackCallError({ kind: "permanent", message: "thread_not_found" }),
      },
    },
  );
  expect((await p).found).toBe(2);
  expect(events(delivered)).toEqual([
    expect.objectContaining({ type: "app_mention", text: "<@UBOT> follow up", thread_ts: oldParent }),
    expect.objectContaining({ type: "message", text: "any reply in a DM thread", thread_ts: dmParent }),
  ]);
});

test("a thread both in history and in the store is read once; a broadcast reply is delivered once", async () => {
  const parent = ts(10 * 60_000);
  const bcast: HistoryMessage = { ts: ts(1000), thread_ts: parent, subtype: "thread_broadcast", user: "UB", text: "<@UBOT> also to the channel" };
  const { p, delivered, repliesRead } = run(
    { C1: [bcast, { ts: parent, user: "UB", text: "parent", reply_count: 1, latest_reply: ts(1000) }] },
    {
      active: ["C1"],
      storeThreads: [{ channel: "C1", threadTs: parent }],
      threads: { [`C1:${parent}`]: [{ ts: parent, thread_ts: parent, user: "UB", text: "parent" }, bcast] },
    },
  );
  expect((await p).found).toBe(1);
  expect(repliesRead).toEqual([`C1:${parent}`]);
  expect(events(delivered)).toEqual([expect.objectContaining({ text: "<@UBOT> also to the channel", thread_ts: parent })]);
});

test("a rate-limited thread read is waited out; a failed one is reported", async () => {
  const limited = new SlackCallError({ kind: "ratelimited", retryAfterMs: 10, message: "ratelimited" });
  let calls = 0;
  const delivered: unknown[] = [];
  const p = catchUp({
    slack: {
      ims: async () => [],
      history: async () => [],
      replies: async (_c, threadTs) => {
        if (threadTs === "2.000000") throw new SlackCallError({ kind: "transient", message: "internal_error" });
        if (calls++ === 0) throw limited;
        return [{ ts: threadTs, user: "UB", text: "p" }, { ts: ts(10), thread_ts: threadTs, user: "UB", text: "<@UBOT> hi" }];
      },
    },
    conversations: async () => [],
    threads: async () => [{ channel: "C1", threadTs: "1.000000" }, { channel: "C1", threadTs: "2.000000" }],
    known: async () => true,
    log: memoryLogger(),
    now: () => now,
    sleep: async () => {},
    botUserId: () => "UBOT",
    deliver: async (_t, payload) => void delivered.push(payload),
  });
  await expect(p).rejects.toThrow("could not read 1 conversations");
  expect(delivered).toHaveLength(1);
});

test("a run makes at most its budget of Slack calls; the next run reads the rest first; every message is found", async () => {
  const ims = Array.from({ length: 60 }, (_, i) => `D${i}`);
  const state = new CatchupState();
  const found = new Set<string>();
  let history = 0;
  const runOnce = (at: number) =>
    catchUp({
      slack: {
        ims: async () => ims,
        history: async (channel) => {
          history++;
          return [{ ts: ts(1000), user: "UA", text: `hi from ${channel}` }];
        },
        replies: async () => [],
      },
      conversations: async () => [],
      known: async () => true,
      state,
      log: memoryLogger(),
      now: () => at,
      sleep: async () => {},
      botUserId: () => "UBOT",
      deliver: async (_t, payload) => void found.add((payload as { event: Ev }).event.text),
    });
  const first = await runOnce(now);
  // users.conversations and history calls together: the budget.
  expect(history + 1).toBe(CALLS_PER_RUN);
  expect(first.left).toBe(60 - (CALLS_PER_RUN - 1));
  const before = history;
  const second = await runOnce(now + 60_000);
  expect(history - before).toBe(CALLS_PER_RUN - 1);
  expect(second.left).toBe(60 - (CALLS_PER_RUN - 1));
  // The conversations the first run left were read first by the second.
  expect(found.size).toBe(60);
});

test("a missing scope is one warning, not a failure every run; the conversation is not asked again for a while", async () => {
  const log = memoryLogger();
  const state = new CatchupState();
  let asked = 0;
  const runOnce = (at: number) =>
    catchUp({
      slack: {
        ims: async () => ["D1"],
        history: async (channel) => {
          if (channel === "G1") {
            asked++;
            throw new SlackCallError({ kind: "permanent", message: "missing_scope" });
          }
          return [];
        },
        replies: async () => [],
      },
      conversations: async () => ["G1"],
      known: async () => true,
      state,
      log,
      now: () => at,
      sleep: async () => {},
      botUserId: () => "UBOT",
      deliver: async () => {},
    });
  expect(await runOnce(now)).toEqual({ found: 0, left: 0 });
  expect(await runOnce(now + 60_000)).toEqual({ found: 0, left: 0 });
  expect(asked).toBe(1);
  await runOnce(now + 2 * 60 * 60_000);
  expect(asked).toBe(2);
  const warnings = log.lines.filter((e) => e.level === "warn" && e.msg.includes("missing_scope"));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]?.msg).toContain("G1");
});
