// Streamed answers: Slack sees the answer grow (a native stream in a thread, edits of one
// message elsewhere), at most one call per interval; the finished answer is one message, sent
// once, escaped and split like any answer; a rate limit slows the stream and loses nothing.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WRITING_MARK } from "../../src/core/live-answer.ts";
import { DUPLICATE_NOTE } from "../../src/core/replies.ts";
import { escapeSlack, formatAnswer, splitText } from "../../src/core/text.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { type AnthropicStandIn, startAnthropicStandIn } from "../stand-ins/anthropic.ts";

const CH = "CSTREAM";
const INTERVAL_MS = 100;
let emu: SlackEmulator;
let bot: InProcessBot | undefined;
let api: AnthropicStandIn | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await emu?.stop();
  api?.stop();
  api = undefined;
  for (const d of dirs.splice(0)) cleanup(d);
});

/** `n` words of an answer, as the model's stream pieces. */
const pieces = (n: number, word = "word") => Array.from({ length: n }, (_, i) => `${word}${i} `);

async function setup(env: Record<string, string>) {
  emu = await startEmulator();
  emu.addChannel(CH, { members: ["U1"] });
  const dir = tempDir();
  dirs.push(dir);
  bot = await startBot(emu, { CLAWDBOT_STREAM_INTERVAL_MS: String(INTERVAL_MS), ...env }, dir);
  await waitFor(async () => (await bot?.rt.snapshot())?.connected, "connected");
  return emu;
}

async function withModel(chunks: string[], chunkDelayMs: number, env: Record<string, string> = {}) {
  api = startAnthropicStandIn();
  api.script([{ text: chunks.join(""), chunks, chunkDelayMs }]);
  return setup({ ANTHROPIC_API_KEY: "sk-ant-test-key-123456", ANTHROPIC_BASE_URL: api.baseURL, CLAWDBOT_MODEL: "claude-test", ...env });
}

const calls = (e: SlackEmulator, method: string) => e.calls.filter((c) => c.method === method);

/** The bot's finished answer messages with this text in the conversation (thread included). */
const finished = (e: SlackEmulator, ch: string, text: string) => e.botMessages(ch).filter((m) => m.text === text);

describe("streamed answers", () => {
  test("a model streaming 20 chunks, in a mention's thread: a native stream grows in several calls, then is the whole answer, once", async () => {
    const chunks = pieces(20);
    const e = await withModel(chunks, 50);
    const m = e.mention("U1", CH, "tell me twenty words");
    const whole = formatAnswer(chunks.join("").trim());
    const msg = await waitFor(() => finished(e, CH, whole)[0], "the finished answer");
    expect(msg.thread_ts).toBe(m.ts);
    expect(msg.metadata?.event_type).toBe("clawdbot_reply");
    const [rec] = e.streams(CH);
    expect(e.streams(CH)).toHaveLength(1);
    expect(rec?.ts).toBe(msg.ts);
    expect(rec?.state).toBe("stopped");
    expect(rec?.recipient_user_id).toBe("U1");
    // It grew: a start and several appends, each a prefix of the answer, nothing lost.
    expect(rec?.chunks.length).toBeGreaterThanOrEqual(3);
    expect(escapeSlack(chunks.join("")).startsWith(rec?.chunks.join("") ?? "-")).toBe(true);
    // At most about one call per interval.
    const at = [...calls(e, "chat.startStream"), ...calls(e, "chat.appendStream")].map((c) => c.at);
    for (let i = 1; i < at.length; i++) expect((at[i] ?? 0) - (at[i - 1] ?? 0)).toBeGreaterThanOrEqual(INTERVAL_MS - 15);
    // Once: one message with the answer, one outbox item for it.
    expect(e.botMessages(CH).filter((x) => x.text.includes("word19"))).toHaveLength(1);
    expect(calls(e, "chat.postMessage").filter((c) => String(c.args.text).includes("word0"))).toHaveLength(0);
  });

  test("a top-level DM grows by edits of one message, marked unfinished, then holds the whole answer", async () => {
    const chunks = pieces(20, "dm");
    const e = await withModel(chunks, 50);
    const d = e.dm("U1", "tell me");
    const whole = formatAnswer(chunks.join("").trim());
    const msg = await waitFor(() => finished(e, d.channel, whole)[0], "the finished answer");
    expect(msg.thread_ts).toBeUndefined();
    expect(e.streams(d.channel)).toHaveLength(0);
    const edits = calls(e, "chat.update").filter((c) => c.args.ts === msg.ts);
    expect(edits.length).toBeGreaterThanOrEqual(3);
    const previews = edits.slice(0, -1).map((c) => String(c.args.text));
    for (const p of previews) expect(p.endsWith(WRITING_MARK)).toBe(true);
    expect(e.botMessages(d.channel)).toHaveLength(1);
  });

  test("a 429 on an append mid-stream: the stream waits Retry-After, and neither the preview nor the answer loses anything", async () => {
    const chunks = pieces(20, "rl");
    const e = await withModel(chunks, 100);
    e.fault("chat.appendStream", { status: 429, retryAfter: 1, times: 1 });
    const m = e.mention("U1", CH, "go");
    const whole = formatAnswer(chunks.join("").trim());
    await waitFor(() => finished(e, CH, whole)[0], "the finished answer");
    const appends = calls(e, "chat.appendStream");
    const limited = appends.findIndex((c) => c.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    const next = appends[limited + 1];
    expect(next).toBeDefined();
    expect((next?.at ?? 0) - (appends[limited]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    const [rec] = e.streams(CH);
    expect(rec?.thread_ts).toBe(m.ts);
    expect(escapeSlack(chunks.join("")).startsWith(rec?.text ?? "-")).toBe(true);
    expect(rec?.text.length).toBeGreaterThan(0);
    expect(e.botMessages(CH).filter((x) => x.text.includes("rl0"))).toHaveLength(1);
  });

  test("a streamed answer longer than one message: the stream becomes its first part, the rest follow once each", async () => {
    const chunks = Array.from({ length: 30 }, (_, i) => `line ${i} ${"x".repeat(200)}\n`);
    const e = await withModel(chunks, 5);
    e.mention("U1", CH, "a long one");
    const parts = splitText(formatAnswer(chunks.join("").trim()));
    expect(parts.length).toBeGreaterThan(1);
    await waitFor(() => parts.every((p) => finished(e, CH, p).length === 1), "every part");
    const [rec] = e.streams(CH);
    expect(e.botMessages(CH).find((x) => x.ts === rec?.ts)?.text).toBe(parts[0] ?? "-");
    expect(e.botMessages(CH)).toHaveLength(parts.length);
  });

  test("an agent that times out mid-stream: the half answer is replaced by the error reply, nothing left looking final", async () => {
    const chunks = pieces(20, "late");
    const e = await withModel(chunks, 200, { CLAWDBOT_AGENT_TIMEOUT: "1" });
    const m = e.mention("U1", CH, "slow");
    const err = await waitFor(() => e.botMessages(CH).find((x) => x.text.includes("couldn't get an answer")), "the error reply");
    expect(err.thread_ts).toBe(m.ts);
    expect(e.streams(CH)[0]?.ts).toBe(err.ts);
    expect(e.botMessages(CH)).toHaveLength(1);
  });
});

describe("streamed answers and the outbox's rules", () => {
  test("the same streamed answer twice within 5 minutes: the second says so instead of repeating it, recorded as suppressed", async () => {
    const chunks = pieces(8, "same");
    api = startAnthropicStandIn();
    api.script([
      { text: chunks.join(""), chunks, chunkDelayMs: 40 },
      { text: chunks.join(""), chunks, chunkDelayMs: 40 },
    ]);
    const e = await setup({ ANTHROPIC_API_KEY: "sk-ant-test-key-123456", ANTHROPIC_BASE_URL: api.baseURL, CLAWDBOT_MODEL: "claude-test" });
    const whole = formatAnswer(chunks.join("").trim());
    const d = e.dm("U1", "once");
    await waitFor(() => finished(e, d.channel, whole).length === 1, "the first answer");
    e.dm("U1", "once again");
    await waitFor(() => finished(e, d.channel, DUPLICATE_NOTE).length === 1, "the second, noted");
    expect(finished(e, d.channel, whole)).toHaveLength(1);
    expect((await bot?.rt.store.outbox.counts())?.suppressed).toBe(1);
  });

  test("a live message deleted before the answer is done: the answer is posted instead, once", async () => {
    const chunks = pieces(10, "gone");
    const e = await withModel(chunks, 100);
    const d = e.dm("U1", "q");
    const live = await waitFor(() => e.botMessages(d.channel)[0], "the live message");
    e.deleteMessage(d.channel, live.ts);
    const whole = formatAnswer(chunks.join("").trim());
    const msg = await waitFor(() => finished(e, d.channel, whole)[0], "the answer posted");
    expect(msg.ts).not.toBe(live.ts);
    expect(e.botMessages(d.channel)).toHaveLength(1);
  });
});

describe.skipIf(process.platform === "win32")("streamed answers from the command agent", () => {
  test('stdout lines {"delta": "..."} grow the answer in Slack while the command runs', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const agent = join(dir, "agent.sh");
    writeFileSync(agent, `#!/bin/sh\ncat > /dev/null\nfor i in 1 2 3 4 5 6; do printf '{"delta": "part%s "}\\n' "$i"; sleep 0.15; done\n`);
    chmodSync(agent, 0o755);
    const e = await setup({ CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: agent });
    const d = e.dm("U1", "stream please");
    const whole = "part1 part2 part3 part4 part5 part6";
    const msg = await waitFor(() => finished(e, d.channel, whole)[0], "the finished answer");
    expect(calls(e, "chat.update").filter((c) => c.args.ts === msg.ts).length).toBeGreaterThanOrEqual(3);
    expect(e.botMessages(d.channel)).toHaveLength(1);
  });
});
