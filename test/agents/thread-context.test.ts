import { expect, test } from "bun:test";
import { threadContext } from "../../src/agents/thread-context.ts";
import type { HistoryMessage } from "../../src/core/slack-port.ts";

const thread: HistoryMessage[] = [
  { ts: "1.0", user: "U1", text: "<@UBOT> is the disk full?" },
  { ts: "1.1", user: "UBOT", bot_id: "BBOT", text: "Let me check: a &amp;&amp; b" },
  { ts: "1.2", user: "U2", bot_id: "BOTHER", text: "another bot" },
  { ts: "1.3", user: "U1", subtype: "message_changed", text: "edit" },
  { ts: "1.4", user: "U1", text: "<@UBOT> and now?" },
];
const slack = (msgs: HistoryMessage[] | Error) => ({
  replies: async () => {
    if (msgs instanceof Error) throw msgs;
    return msgs;
  },
});
const base = { channel: "C1", threadTs: "1.0", currentTs: "1.4", botUserId: "UBOT", botId: "BBOT" };

test("the thread before the current message, as user/assistant turns, unescaped, mentions stripped", async () => {
  expect(await threadContext({ ...base, slack: slack(thread) })).toEqual([
    { role: "user", text: "is the disk full?" },
    { role: "assistant", text: "Let me check: a && b" },
  ]);
});

test("what came after the current message is not context: its own answer being written, a crash's half answer", async () => {
  const later: HistoryMessage[] = [...thread, { ts: "1.5", user: "UBOT", bot_id: "BBOT", text: "half an ans" }];
  expect(await threadContext({ ...base, slack: slack(later) })).toEqual([
    { role: "user", text: "is the disk full?" },
    { role: "assistant", text: "Let me check: a && b" },
  ]);
});

test("no thread, or a failing Slack: no context, and the error is reported", async () => {
  expect(await threadContext({ ...base, threadTs: undefined, slack: slack(thread) })).toEqual([]);
  let seen: unknown;
  expect(await threadContext({ ...base, slack: slack(new Error("ratelimited")), onError: (e) => (seen = e) })).toEqual([]);
  expect(String(seen)).toContain("ratelimited");
});

test("bounded: the newest turns are kept", async () => {
  const long: HistoryMessage[] = Array.from({ length: 50 }, (_, i) => ({ ts: `2.${i}`, user: "U1", text: `m${i}` }));
  const got = await threadContext({ ...base, currentTs: "9", slack: slack(long), maxMessages: 3 });
  expect(got.map((t) => t.text)).toEqual(["m47", "m48", "m49"]);
});

test("turns with files, /me messages and broadcasts are kept; a file-only message is a turn by its file names", async () => {
  const msgs: HistoryMessage[] = [
    { ts: "1.0", user: "U1", text: "<@UBOT> look", subtype: "file_share", files: [{ id: "F1", name: "shot.png" }] },
    { ts: "1.1", user: "UBOT", bot_id: "BBOT", text: "A screenshot of an error." },
    { ts: "1.2", user: "U1", text: "", subtype: "file_share", files: [{ id: "F2", name: "app.log" }, { id: "F3", name: "b.txt" }] },
    { ts: "1.3", user: "U1", text: "shrugs", subtype: "me_message" },
    { ts: "1.4", user: "U1", text: "to all", subtype: "thread_broadcast" },
    { ts: "1.5", user: "U1", text: "<@UBOT> and now?" },
  ];
  expect(await threadContext({ ...base, currentTs: "1.5", slack: slack(msgs) })).toEqual([
    { role: "user", text: "look\n[attached: shot.png]" },
    { role: "assistant", text: "A screenshot of an error." },
    { role: "user", text: "[attached: app.log, b.txt]" },
    { role: "user", text: "shrugs" },
    { role: "user", text: "to all" },
  ]);
});
