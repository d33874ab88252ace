// kill -9 while an answer streams (the compiled executable, same data dir): after the restart
// the half answer is not left looking final. The event is answered again into the same
// message, which ends as the one finished answer; nothing is posted twice.
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { formatAnswer } from "../../src/core/text.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { botEnv, type BotProcess, cleanup, ensureBinary, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { type AnthropicStandIn, startAnthropicStandIn } from "../stand-ins/anthropic.ts";

const CH = "CCRASH";
let emu: SlackEmulator;
let api: AnthropicStandIn;
const dirs: string[] = [];

beforeAll(async () => {
  await ensureBinary();
}, 120_000);
beforeEach(async () => {
  emu = await startEmulator({ ackTimeoutMs: 500 });
  emu.addChannel(CH, { members: ["U1"] });
  api = startAnthropicStandIn();
});
afterEach(async () => {
  await emu.stop();
  api.stop();
});
afterAll(() => {
  for (const d of dirs) cleanup(d);
});

async function start(env: Record<string, string>): Promise<BotProcess> {
  const bot = await spawnBot(["run"], env);
  await bot.healthPort();
  await waitFor(() => emu.openConnections() === 1, "connected");
  return bot;
}

async function kill9(bot: BotProcess): Promise<void> {
  bot.proc.kill(9);
  await bot.exited;
  await waitFor(() => emu.openConnections() === 0, "the killed bot's socket closed");
}

test("kill -9 mid-stream, then restart: the streamed message ends as the one finished answer, nothing twice", async () => {
  const dir = tempDir();
  dirs.push(dir);
  const env = botEnv(emu, dir, {
    ANTHROPIC_API_KEY: "sk-ant-test-key-123456",
    ANTHROPIC_BASE_URL: api.baseURL,
    CLAWDBOT_MODEL: "claude-test",
    CLAWDBOT_STREAM_INTERVAL_MS: "100",
  });
  const first = Array.from({ length: 20 }, (_, i) => `first${i} `);
  const second = Array.from({ length: 20 }, (_, i) => `second${i} `);
  // 20 chunks over 4 s: the kill lands mid-stream. The restart's call streams quickly.
  api.script([
    { text: first.join(""), chunks: first, chunkDelayMs: 200 },
    { text: second.join(""), chunks: second, chunkDelayMs: 10 },
  ]);
  let bot = await start(env);
  const m = emu.mention("U1", CH, "a long story please");
  await waitFor(() => (emu.streams(CH)[0]?.chunks.length ?? 0) >= 3, "the answer growing");
  await kill9(bot);
  const [rec] = emu.streams(CH);
  expect(rec?.state).toBe("streaming");

  bot = await start(env);
  try {
    const whole = formatAnswer(second.join("").trim());
    const msg = await waitFor(() => emu.botMessages(CH).find((x) => x.text === whole), "the finished answer");
    expect(msg.ts).toBe(rec?.ts ?? "-");
    expect(msg.thread_ts).toBe(m.ts);
    expect(msg.metadata?.event_type).toBe("clawdbot_reply");
    // Finished: the stream stopped, one message in the thread.
    expect(emu.streams(CH)).toHaveLength(1);
    expect(emu.streams(CH)[0]?.state).toBe("stopped");
    expect(emu.botMessages(CH)).toHaveLength(1);
    // Every call after the restart went to that message: edits, the stream's stop, no new post or stream.
    const answerCalls = emu.calls.filter((c) => /^chat\.(postMessage|startStream|update|stopStream)$/.test(c.method));
    expect(answerCalls.filter((c) => c.method === "chat.startStream")).toHaveLength(1);
    expect(answerCalls.filter((c) => c.method === "chat.postMessage")).toHaveLength(0);
    expect(answerCalls.every((c) => c.method === "chat.startStream" || c.args.ts === msg.ts)).toBe(true);
    expect(api.requests).toHaveLength(2);
    // Nothing more comes.
    await Bun.sleep(300); // a grace period for a duplicate to show, not a wait for a condition
    expect(emu.botMessages(CH)).toHaveLength(1);
  } finally {
    bot.proc.kill("SIGTERM");
    await bot.exited;
  }
}, 60_000);
