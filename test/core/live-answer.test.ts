// LiveAnswer against the emulator through the real Web API port and a real store: how it
// starts, falls back, finds a start whose answer was lost, and takes over a crash's message.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { systemClock } from "../../src/core/clock.ts";
import { LiveAnswer, type LiveTarget, RESTARTED_NOTE, WRITING_MARK } from "../../src/core/live-answer.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import type { Store } from "../../src/core/store.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { WebPort } from "../../src/slack/web-port.ts";
import { openStore } from "../../src/store/index.ts";
import { cleanup, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

const CH = "CLIVE";
let emu: SlackEmulator;
let store: Store;
let dir: string;

afterEach(async () => {
  await store?.close();
  await emu?.stop();
  cleanup(dir);
});

async function setup(timeoutMs = 2000) {
  emu = await startEmulator();
  emu.addChannel(CH, { members: ["U1"] });
  dir = tempDir();
  store = await openStore(join(dir, "clawdbot.db"));
  const slack = new WebPort(emu.options.botToken, emu.apiUrl, { timeoutMs });
  const log = memoryLogger();
  const visible: string[] = [];
  const open = (t: LiveTarget) =>
    LiveAnswer.open(
      { slack, store, clock: systemClock, log, intervalMs: 50, botUserId: () => "UBOT", botId: () => "BBOT", onVisible: (k) => visible.push(k) },
      t,
    );
  return { open, log, visible };
}

const inThread = (threadTs: string, more: Partial<LiveTarget> = {}): LiveTarget => ({
  eventKey: `msg:${CH}:${threadTs}`,
  channel: CH,
  threadTs,
  isIm: false,
  recipientUserId: "U1",
  recipientTeamId: "T0001",
  ...more,
});

test("a stream in a thread: started on the first text, appended at most once per interval, recorded with its ts", async () => {
  const { open, visible } = await setup();
  const parent = emu.channelMessage("U1", CH, "question").ts;
  const live = await open(inThread(parent));
  for (let i = 0; i < 10; i++) {
    live.delta(`w${i} `);
    await Bun.sleep(15);
  }
  const msg = await live.close();
  const [rec] = emu.streams(CH);
  expect(msg?.ts).toBe(rec?.ts ?? "-");
  expect(msg?.mode).toBe("stream");
  expect(await store.live.get(`msg:${CH}:${parent}`)).toEqual(msg);
  expect(rec?.chunks.length).toBeGreaterThan(1);
  expect(rec?.chunks.length).toBeLessThan(10);
  expect(visible).toEqual([`msg:${CH}:${parent}`]);
});

test("no text, no message: close() says there is none and Slack saw nothing", async () => {
  const { open } = await setup();
  const live = await open(inThread(emu.channelMessage("U1", CH, "q").ts));
  expect(await live.close()).toBeNull();
  expect(live.recorded).toBe(false);
  expect(emu.calls.filter((c) => c.method.startsWith("chat."))).toHaveLength(0);
});

test("outside a thread, or without the recipient's team, it is one message edited; the preview is marked unfinished", async () => {
  const { open } = await setup();
  const live = await open(inThread(emu.channelMessage("U1", CH, "q").ts, { recipientTeamId: undefined }));
  live.delta("hello & <world>");
  await waitFor(() => emu.botMessages(CH).length === 1, "the live post");
  live.delta(" again");
  await waitFor(() => emu.calls.some((c) => c.method === "chat.update"), "an edit");
  const msg = await live.close();
  expect(msg?.mode).toBe("update");
  expect(emu.streams(CH)).toHaveLength(0);
  expect(emu.botMessages(CH)[0]?.text).toBe(`hello &amp; &lt;world&gt; again${WRITING_MARK}`);
  expect(emu.botMessages(CH)[0]?.metadata?.event_payload).toEqual({ live: `msg:${CH}:${emu.botMessages(CH)[0]?.thread_ts}` });
});

test("Slack refusing a stream here (a permanent error) falls back to edits of a posted message", async () => {
  const { open } = await setup();
  emu.fault("chat.startStream", { error: "channel_type_not_supported", times: 1 });
  const live = await open(inThread(emu.channelMessage("U1", CH, "q").ts));
  live.delta("fallback text");
  await waitFor(() => emu.botMessages(CH).length === 1, "the post instead");
  const msg = await live.close();
  expect(msg?.mode).toBe("update");
  expect(emu.botMessages(CH)[0]?.text).toBe(`fallback text${WRITING_MARK}`);
});

test("a start whose answer was lost (posted, no reply) is found in the thread, not started twice", async () => {
  const { open } = await setup(300);
  emu.fault("chat.startStream", { executeThenHang: true, times: 1 });
  const live = await open(inThread(emu.channelMessage("U1", CH, "q").ts));
  live.delta("first ");
  await waitFor(() => emu.streams(CH).length === 1, "the stream posted");
  await Bun.sleep(400); // past the port's 300 ms deadline: the outcome is unknown
  live.delta("second");
  await waitFor(() => (emu.streams(CH)[0]?.chunks.length ?? 0) >= 2, "appended to the same stream");
  const msg = await live.close();
  expect(emu.streams(CH)).toHaveLength(1);
  expect(msg?.ts).toBe(emu.streams(CH)[0]?.ts ?? "-");
});

test("a crash's message is taken over: the half answer is replaced by a note at once, then edited as the new answer grows", async () => {
  const { open } = await setup();
  const parent = emu.channelMessage("U1", CH, "q").ts;
  const crashed = await open(inThread(parent));
  crashed.delta("half an ans");
  await waitFor(() => emu.streams(CH).length === 1, "the first stream");
  // The process died here: nothing closed it. A new one answers the same event.
  const live = await open(inThread(parent));
  await waitFor(() => emu.botMessages(CH)[0]?.text === RESTARTED_NOTE, "the note");
  expect(emu.streams(CH)[0]?.state).toBe("stopped");
  live.delta("the new answer");
  await waitFor(() => emu.botMessages(CH)[0]?.text === `the new answer${WRITING_MARK}`, "the new preview");
  const msg = await live.close();
  expect(msg?.ts).toBe(emu.streams(CH)[0]?.ts ?? "-");
  expect(emu.botMessages(CH)).toHaveLength(1);
  await crashed.close();
});

test("a crash before Slack's answer to the start: the restart finds the stream by the thread and takes it over", async () => {
  const { open } = await setup();
  const parent = emu.channelMessage("U1", CH, "q").ts;
  const key = `msg:${CH}:${parent}`;
  const { ts } = await new WebPort(emu.options.botToken, emu.apiUrl).startStream({
    channel: CH,
    threadTs: parent,
    markdown: "half",
    recipientUserId: "U1",
    recipientTeamId: "T0001",
  });
  await store.live.put({ eventKey: key, channel: CH, threadTs: parent, ts: null, mode: "stream", createdAt: Date.now() - 500 });
  const live = await open(inThread(parent));
  await waitFor(() => emu.botMessages(CH)[0]?.text === RESTARTED_NOTE, "the note");
  expect((await live.close())?.ts).toBe(ts);
  expect((await store.live.get(key))?.ts).toBe(ts);
});
