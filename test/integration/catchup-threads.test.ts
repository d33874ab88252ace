// Catch-up reads threads: a mention posted in a thread while the bot was stopped is
// answered once, in that thread, whether the thread's parent is recent or older than the
// catch-up window (then only the store knows the bot took part in it).
import { afterEach, beforeEach, expect, setSystemTime, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator | null;
let dir: string;
let bot: InProcessBot | null;

beforeEach(() => {
  emu = null;
  bot = null;
  dir = tempDir();
});
afterEach(async () => {
  setSystemTime();
  await bot?.stop();
  await emu?.stop();
  cleanup(dir);
});

async function start(e: SlackEmulator): Promise<void> {
  bot = await startBot(e, {}, dir);
  await waitFor(() => e.openConnections() === 1, "the bot's socket");
}

async function stop(e: SlackEmulator): Promise<void> {
  await bot?.stop();
  bot = null;
  await waitFor(() => e.openConnections() === 0, "socket closed");
}

const repliesTo = (e: SlackEmulator, text: string) => e.botMessages("CGENERAL").filter((m) => m.text.includes(text));

/** The bot answers a mention (its reply starts a thread); the mention's ts is the thread's. */
async function answeredMention(e: SlackEmulator): Promise<string> {
  await start(e);
  const { ts } = e.mention("UBOB", "CGENERAL", "first question");
  await waitFor(() => repliesTo(e, "first question")[0], "first answer");
  expect(repliesTo(e, "first question")[0]?.thread_ts).toBe(ts);
  await stop(e);
  return ts;
}

/** Posts the follow-up while the bot is away, restarts it, and checks the one answer. */
async function followUpAnswered(e: SlackEmulator, threadTs: string): Promise<void> {
  // Live delivery is withheld: only catch-up can find the follow-up.
  e.deafen(true);
  e.mention("UBOB", "CGENERAL", "follow up", { threadTs });
  await start(e);
  await waitFor(() => repliesTo(e, "follow up")[0], "catch-up answer to the follow-up", 15_000);
  expect(repliesTo(e, "follow up")[0]?.thread_ts).toBe(threadTs);
  // The late live delivery is the same message: not answered again.
  e.deafen(false);
  e.dm("UMARK", "marker");
  await waitFor(() => e.botMessages().find((m) => m.text.includes("marker")), "marker answer");
  expect(repliesTo(e, "follow up")).toHaveLength(1);
  expect(repliesTo(e, "first question")).toHaveLength(1);
}

test("a follow-up mention in the thread of a recent answer is answered once, in the thread", async () => {
  const e = await startEmulator();
  emu = e;
  e.addChannel("CGENERAL", { name: "general", botMember: true });
  const threadTs = await answeredMention(e);
  await followUpAnswered(e, threadTs);
}, 30_000);

test("a follow-up in a thread whose parent is older than the catch-up window is answered once", async () => {
  // The first exchange happens two hours ago: its parent is out of the 1-hour history window.
  setSystemTime(new Date(Date.now() - 2 * 60 * 60 * 1000));
  const e = await startEmulator();
  emu = e;
  e.addChannel("CGENERAL", { name: "general", botMember: true });
  const threadTs = await answeredMention(e);
  setSystemTime();
  await followUpAnswered(e, threadTs);
  // The parent was not in the windowed history; the thread came from the store.
  expect(e.calls.some((c) => c.method === "conversations.replies" && c.args.ts === threadTs)).toBe(true);
}, 30_000);
