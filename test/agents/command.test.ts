import { describe, expect, test } from "bun:test";
import { CommandAgent, parseAgentOutput, parseStreamedOutput } from "../../src/agents/command.ts";
import { EchoAgent } from "../../src/agents/echo.ts";
import { AgentError, type AgentRequest } from "../../src/agents/types.ts";

const req: AgentRequest = {
  text: "hi & <there>",
  user: "U1",
  channel: "D1",
  threadTs: "1700000000.000100",
  context: [{ role: "user", text: "earlier" }],
};
const never = new AbortController().signal;
const agent = (command: string, timeoutMs = 10_000) => new CommandAgent({ command, timeoutMs });

/** A command printing `json` after draining stdin (a writer on a closed pipe must not matter). */
const printing = (json: string) => `cat > /dev/null; printf '%s' '${json}'`;

test("echo agent answers with the text it got", async () => {
  const r = await new EchoAgent().answer(req);
  expect(r.reply).toContain("hi & <there>");
  expect(r.jobs).toEqual([]);
});

describe.skipIf(process.platform === "win32")("CommandAgent", () => {
  test("gets {text, user, channel, thread_ts, context, files} on stdin", async () => {
    const r = await agent("cat").answer(req, never);
    expect(JSON.parse(r.reply)).toEqual({
      text: "hi & <there>",
      user: "U1",
      channel: "D1",
      thread_ts: "1700000000.000100",
      context: [{ role: "user", text: "earlier" }],
      files: [],
    });
    expect(r.jobs).toEqual([]);
  });

  test("files: {name, mimetype, size, text?}; an image's content is never given to a command", async () => {
    const files = [
      { name: "a.log", mimetype: "text/plain", size: 3, text: "abc" },
      { name: "b.png", mimetype: "image/png", size: 4, image: { mediaType: "image/png", base64: "AAAA" } },
    ];
    const r = await agent("cat").answer({ ...req, files }, never);
    expect(JSON.parse(r.reply).files).toEqual([
      { name: "a.log", mimetype: "text/plain", size: 3, text: "abc" },
      { name: "b.png", mimetype: "image/png", size: 4 },
    ]);
  });

  test("plain stdout is the reply", async () => {
    const r = await agent("cat > /dev/null; echo 'just text'").answer(req, never);
    expect(r).toEqual({ reply: "just text", jobs: [] });
  });

  test("JSON with exec, code and usage becomes jobs and usage", async () => {
    const json = JSON.stringify({
      reply: "I will look",
      exec: { command: "dir && echo ok", reason: "to see" },
      code: { task: "fix it" },
      usage: { model: "m1", input_tokens: 12, output_tokens: 34 },
    });
    const r = await agent(printing(json)).answer(req, never);
    expect(r.reply).toBe("I will look");
    expect(r.jobs).toEqual([
      { kind: "exec", text: "dir && echo ok", reason: "to see" },
      { kind: "code", text: "fix it" },
    ]);
    expect(r.usage).toEqual({ provider: "command", model: "m1", inputTokens: 12, outputTokens: 34 });
  });

  test('streams: each stdout line {"delta": "..."} reaches onDelta as it is printed; the deltas joined are the reply', async () => {
    const cmd = `cat > /dev/null; for w in 'The ' 'answer ' 'grows.'; do printf '{"delta": "%s"}\n' "$w"; sleep 0.1; done`;
    const seen: { text: string; at: number }[] = [];
    const r = await agent(cmd).answer(req, never, (text) => seen.push({ text, at: Date.now() }));
    expect(seen.map((s) => s.text)).toEqual(["The ", "answer ", "grows."]);
    // As printed, not all at the end.
    expect((seen[2]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThan(100);
    expect(r).toEqual({ reply: "The answer grows.", jobs: [] });
  });

  test("non-zero exit is an AgentError with the code and stderr's first line", async () => {
    const p = agent("echo 'boom happened' >&2; echo second >&2; exit 4").answer(req, never);
    await expect(p).rejects.toBeInstanceOf(AgentError);
    await expect(p).rejects.toThrow("exited with code 4: boom happened");
  });

  test("a long stderr line is cut between words: a secret across the cut is dropped whole, never half kept", async () => {
    const secret = "secret-value-abcdefghijklmnopqrstuvwxyz";
    const line = `${"x".repeat(990)} ${secret} tail`;
    const err = await agent(`echo '${line}' >&2; exit 1`).answer(req, never).catch((e: Error) => e);
    expect((err as Error).message).toEndWith(`${"x".repeat(990)} …`);
    expect((err as Error).message).not.toContain("secret-value");
  });

  test("timeout is an AgentError", async () => {
    const p = agent("sleep 30", 200).answer(req, never);
    await expect(p).rejects.toBeInstanceOf(AgentError);
    await expect(p).rejects.toThrow(/^agent timed out after 0\.2 s/);
  });

  test("empty stdout is an AgentError", async () => {
    await expect(agent("cat > /dev/null").answer(req, never)).rejects.toBeInstanceOf(AgentError);
  });

  test("abort stops the command and rejects with the signal's reason", async () => {
    const ac = new AbortController();
    const p = agent("sleep 30").answer(req, ac.signal);
    ac.abort(new Error("shutting down"));
    await expect(p).rejects.toThrow("shutting down");
  });
});

describe("parseAgentOutput", () => {
  test("JSON that is not an object with a reply is text", () => {
    for (const s of ["[1,2]", "42", '"str"', "null", '{"answer":"x"}', '{"reply": 5}', "{not json"]) {
      expect(parseAgentOutput(s)).toEqual({ reply: s, jobs: [] });
    }
  });

  test("malformed job requests are refused, malformed usage dropped", () => {
    expect(() => parseAgentOutput('{"reply":"x","exec":{"cmd":"ls"}}')).toThrow(AgentError);
    expect(() => parseAgentOutput('{"reply":"x","code":"task"}')).toThrow(AgentError);
    expect(parseAgentOutput('{"reply":"x","usage":"lots"}')).toEqual({ reply: "x", jobs: [] });
  });

  test("streamed output: what else stdout says is the reply (text or JSON); deltas alone are joined", () => {
    expect(parseStreamedOutput('{"delta": "a"}\n{"delta": "b\\nc"}\n')).toEqual({ reply: "ab\nc", jobs: [] });
    expect(parseStreamedOutput('{"delta": "draft"}\n{"reply": "final", "exec": {"command": "ls"}}\n')).toEqual({
      reply: "final",
      jobs: [{ kind: "exec", text: "ls" }],
    });
    expect(parseStreamedOutput('{"delta": "x"}\nthe real answer\n').reply).toBe("the real answer");
    // Not a delta line: another key, or not a string.
    expect(parseStreamedOutput('{"delta": "x", "more": 1}').reply).toBe('{"delta": "x", "more": 1}');
    expect(() => parseStreamedOutput('{"delta": ""}\n{"delta": " "}')).toThrow(AgentError);
  });

  test("an empty reply is only fine alongside a job", () => {
    expect(() => parseAgentOutput('{"reply":""}')).toThrow(AgentError);
    expect(parseAgentOutput('{"reply":"","exec":{"command":"ls"}}').jobs).toEqual([{ kind: "exec", text: "ls" }]);
  });
});
