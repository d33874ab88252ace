import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { AnthropicAgent, type AnthropicResumeState, buildMessages, describeOutcome } from "../../src/agents/anthropic.ts";
import { AgentError, type AgentRequest } from "../../src/agents/types.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { startAnthropicStandIn } from "../stand-ins/anthropic.ts";

const KEY = "sk-ant-test-0123456789abcdef";
const api = startAnthropicStandIn();
afterAll(() => api.stop());
beforeEach(() => {
  api.requests.length = 0;
});

function agent(log = memoryLogger()) {
  return new AnthropicAgent({ apiKey: KEY, baseURL: api.baseURL, model: "claude-test", timeoutMs: 2000, log });
}

const req = (text: string, context: AgentRequest["context"] = []): AgentRequest => ({
  text,
  user: "U1",
  channel: "D1",
  threadTs: undefined,
  context,
});

const signal = () => AbortSignal.timeout(5000);

describe("AnthropicAgent", () => {
  test("text answer with usage; API key sent; tools and system offered", async () => {
    api.script([{ text: "Hi there", usage: { input_tokens: 42, output_tokens: 7 } }]);
    const r = await agent().answer(req("hello"), signal());
    expect(r).toEqual({
      reply: "Hi there",
      jobs: [],
      usage: { provider: "anthropic", model: "claude-test", inputTokens: 42, outputTokens: 7 },
    });
    const sent = api.requests[0]!;
    expect(sent.path).toBe("/v1/messages");
    // SDK 1.14.0 presents the API key as `Authorization: Bearer`; older ones used x-api-key.
    expect([sent.headers["x-api-key"], sent.headers.authorization]).toContainAnyValues([KEY, `Bearer ${KEY}`]);
    expect(sent.body.model).toBe("claude-test");
    expect(sent.body.messages).toEqual([{ role: "user", content: "hello" }]);
    expect(String(sent.body.system)).toContain("clawdbot");
    expect(sent.body.tools?.map((t) => t.name)).toEqual(["run_command", "code_task"]);
  });

  test("run_command becomes an exec job with the verbatim command and a resume state", async () => {
    const command = `echo a && echo "b" > f; ls -la | grep 'x'`;
    api.script([{ toolUse: { id: "toolu_1", name: "run_command", input: { command, reason: "to check" } } }]);
    const r = await agent().answer(req("run it"), signal());
    expect(r.reply).toBe("I'd like to run a command; it needs approval.");
    expect(r.jobs.length).toBe(1);
    const job = r.jobs[0]!;
    expect(job.kind).toBe("exec");
    expect(job.text).toBe(command);
    expect(job.reason).toBe("to check");
    const state = job.resume as AnthropicResumeState;
    expect(state.toolUseId).toBe("toolu_1");
    expect(state.toolUseIds).toEqual(["toolu_1"]);
    expect(state.model).toBe("claude-test");
    expect(state.messages.at(-1)).toEqual({
      role: "assistant",
      content: [{ type: "tool_use", id: "toolu_1", name: "run_command", input: { command, reason: "to check" } }],
    });
    // Survives the store: plain JSON.
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  test("code_task with text keeps the text as the reply", async () => {
    api.script([{ text: "I'll hand that over.", toolUse: { name: "code_task", input: { task: "add a test" } } }]);
    const r = await agent().answer(req("write a test"), signal());
    expect(r.reply).toBe("I'll hand that over.");
    expect(r.jobs.map((j) => [j.kind, j.text])).toEqual([["code", "add a test"]]);
  });

  test("resume sends the tool_result and returns the final text", async () => {
    api.script([
      { toolUse: { id: "toolu_9", name: "run_command", input: { command: "uptime" } } },
      { text: "The host has been up 3 days.", usage: { input_tokens: 100, output_tokens: 12 } },
    ]);
    const a = agent();
    const first = await a.answer(req("how long is the host up?"), signal());
    // Through JSON, as it would come back from the store after a restart.
    const state = JSON.parse(JSON.stringify(first.jobs[0]!.resume));
    const r = await a.resume(state, { status: "succeeded", exitCode: 0, output: "up 3 days" }, signal());
    expect(r.reply).toBe("The host has been up 3 days.");
    expect(r.jobs).toEqual([]);
    expect(r.usage?.inputTokens).toBe(100);

    const sent = api.requests[1]!.body.messages;
    expect(sent.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(sent[2]!.content).toEqual([
      { type: "tool_result", tool_use_id: "toolu_9", content: "status: succeeded\nexit code: 0\noutput:\nup 3 days", is_error: false },
    ]);
  });

  test("a failed or denied job is sent as an error result", async () => {
    api.script([{ toolUse: { id: "toolu_d", name: "run_command", input: { command: "rm -rf /tmp/x" } } }, { text: "OK, not done." }]);
    const a = agent();
    const first = await a.answer(req("clean up"), signal());
    await a.resume(first.jobs[0]!.resume, { status: "denied", exitCode: null, output: "" }, signal());
    const result = (api.requests[1]!.body.messages[2]!.content as Array<Record<string, unknown>>)[0]!;
    expect(result.is_error).toBe(true);
    expect(String(result.content)).toContain("denied");
  });

  test("several tool calls: one job, the others answered as not run", async () => {
    api.script([
      {
        toolUse: [
          { id: "toolu_a", name: "run_command", input: { command: "date" } },
          { id: "toolu_b", name: "code_task", input: { task: "refactor" } },
        ],
      },
      { text: "done" },
    ]);
    const a = agent();
    const first = await a.answer(req("two things"), signal());
    expect(first.jobs.length).toBe(1);
    expect(first.jobs[0]!.text).toBe("date");
    await a.resume(first.jobs[0]!.resume, { status: "succeeded", exitCode: 0, output: "Mon" }, signal());
    const results = api.requests[1]!.body.messages[2]!.content as Array<Record<string, unknown>>;
    expect(results.map((r) => [r.tool_use_id, r.is_error])).toEqual([
      ["toolu_a", false],
      ["toolu_b", true],
    ]);
    expect(String(results[1]!.content)).toContain("not run");
  });

  test("a tool call with bad input is not a job", async () => {
    const log = memoryLogger();
    api.script([{ toolUse: { name: "run_command", input: { cmd: "ls" } } }]);
    const r = await agent(log).answer(req("x"), signal());
    expect(r.jobs).toEqual([]);
    expect(r.reply.length).toBeGreaterThan(0);
    expect(log.lines.some((l) => l.level === "warn")).toBe(true);
  });

  test("an SDK error becomes a short AgentError without the key", async () => {
    api.script([{ error: { status: 401, type: "authentication_error", message: `invalid x-api-key ${KEY}` } }]);
    const err = await agent().answer(req("hello"), signal()).catch((e) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err.message).toContain("401");
    expect(err.message).not.toContain(KEY);
    expect(err.message.length).toBeLessThan(300);

    api.script([{ error: { status: 400, type: "invalid_request_error", message: `bad thing near ${KEY}` } }]);
    const err2 = await agent().answer(req("hello"), signal()).catch((e) => e);
    expect(err2).toBeInstanceOf(AgentError);
    expect(err2.message).not.toContain(KEY);
  });

  test("cancellation and the caller's timeout are AgentErrors", async () => {
    const dead = new AnthropicAgent({ apiKey: KEY, baseURL: "http://127.0.0.1:1", model: "m", timeoutMs: 200, log: memoryLogger() });
    const ctl = new AbortController();
    ctl.abort();
    const err = await dead.answer(req("x"), ctl.signal).catch((e) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err.message).toBe("anthropic: request cancelled");

    api.script([{ text: "late", delayMs: 500 }]);
    const t0 = Date.now();
    const err2 = await agent().answer(req("x"), AbortSignal.timeout(50)).catch((e) => e);
    expect(Date.now() - t0).toBeLessThan(400);
    expect(err2).toBeInstanceOf(AgentError);
    expect(err2.message).toBe("anthropic: timed out");
  });

  test("streams: the text comes through onDelta piece by piece; the reply is the finished message, usage included", async () => {
    const chunks = ["The ", "answer ", "is ", "*42*."];
    api.script([{ text: chunks.join(""), chunks, usage: { input_tokens: 30, output_tokens: 4 } }]);
    const deltas: string[] = [];
    const r = await agent().answer(req("what is it?"), signal(), (d) => deltas.push(d));
    expect(api.requests[0]?.body.stream).toBe(true);
    expect(deltas).toEqual(chunks);
    expect(r).toEqual({ reply: "The answer is *42*.", jobs: [], usage: { provider: "anthropic", model: "claude-test", inputTokens: 30, outputTokens: 4 } });
  });

  test("streams: text before a tool call is previewed; the tool call still becomes the job", async () => {
    api.script([{ text: "Let me look.", toolUse: { id: "toolu_9", name: "run_command", input: { command: "df -h" } } }]);
    const deltas: string[] = [];
    const r = await agent().answer(req("disk?"), signal(), (d) => deltas.push(d));
    expect(deltas.join("")).toBe("Let me look.");
    expect(r.reply).toBe("Let me look.");
    expect(r.jobs.map((j) => j.text)).toEqual(["df -h"]);
  });

  test("a stream cut by the caller's timeout is an AgentError after the pieces that came", async () => {
    api.script([{ text: "abcdef", chunks: ["ab", "cd", "ef"], chunkDelayMs: 300 }]);
    const deltas: string[] = [];
    const err = await agent()
      .answer(req("slow"), AbortSignal.timeout(450), (d) => deltas.push(d))
      .catch((e) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err.message).toBe("anthropic: timed out");
    expect(deltas.join("")).toBe("abcd");
  });

  test("a damaged resume state is an AgentError", async () => {
    const err = await agent().resume({ nope: 1 }, { status: "succeeded", exitCode: 0, output: "" }, signal()).catch((e) => e);
    expect(err).toBeInstanceOf(AgentError);
  });
});

describe("buildMessages", () => {
  test("merges consecutive same-role turns and appends the new text", () => {
    expect(
      buildMessages(
        [
          { role: "user", text: "a" },
          { role: "user", text: "b" },
          { role: "assistant", text: "c" },
          { role: "assistant", text: "d" },
        ],
        "e",
      ),
    ).toEqual([
      { role: "user", content: "a\n\nb" },
      { role: "assistant", content: "c\n\nd" },
      { role: "user", content: "e" },
    ]);
  });

  test("starts with a user turn, skips empty turns, merges the new text into a trailing user turn", () => {
    expect(
      buildMessages(
        [
          { role: "assistant", text: "hello from the bot" },
          { role: "user", text: "  " },
          { role: "user", text: "earlier question" },
        ],
        "new question",
      ),
    ).toEqual([
      { role: "user", content: "(earlier in this conversation)" },
      { role: "assistant", content: "hello from the bot" },
      { role: "user", content: "earlier question\n\nnew question" },
    ]);
  });

  test("does not repeat the new message when the relay already has it", () => {
    expect(buildMessages([{ role: "assistant", text: "x" }, { role: "user", text: "same" }], "same")).toEqual([
      { role: "user", content: "(earlier in this conversation)" },
      { role: "assistant", content: "x" },
      { role: "user", content: "same" },
    ]);
  });

  test("long output is cut to about 20k characters, head and tail kept", () => {
    const out = describeOutcome({ status: "failed", exitCode: 1, output: `START${"x".repeat(50_000)}END` });
    expect(out.length).toBeLessThan(20_200);
    expect(out).toContain("START");
    expect(out).toContain("END");
    expect(out).toContain("exit code: 1");
    expect(out).toContain("omitted");
  });
});
