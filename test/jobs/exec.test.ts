import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childEnv, formatJobResult, jobSummary, runCodeJob, runExecJob, type JobResult } from "../../src/jobs/exec.ts";

const dir = mkdtempSync(join(tmpdir(), "clawdbot-exec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(process.platform === "win32")("runExecJob / runCodeJob", () => {
  test("`echo a && echo b > f` runs exactly as typed, in cwd", async () => {
    const r = await runExecJob({ command: "echo a && echo b > f", cwd: dir, timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.output).toBe("a\n");
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("b\n");
  });

  test("exit codes propagate", async () => {
    const r = await runExecJob({ command: "echo oops >&2; exit 3", cwd: dir, timeoutMs: 10_000 });
    expect(r.exitCode).toBe(3);
    expect(r.output).toBe("oops\n");
  });

  test("timeout is reported", async () => {
    const r = await runExecJob({ command: "sleep 30", cwd: dir, timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(jobSummary(r)).toMatch(/^timed out after 0\.\d s \(process tree killed\)$/);
  });

  test("a missing cwd is a failed job that says why, not a throw", async () => {
    const r = await runExecJob({ command: "true", cwd: join(dir, "missing"), timeoutMs: 1000 });
    expect(r.exitCode).toBeNull();
    expect(r.notStarted).toBe(true);
    expect(r.output).toContain("could not start");
  });

  test("the code command gets the task on stdin, in cwd", async () => {
    const task = "refactor `x` && don't > break";
    const r = await runCodeJob({ codeCommand: "cat > task.txt; echo got it", task, cwd: dir, timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.output).toBe("got it\n");
    expect(readFileSync(join(dir, "task.txt"), "utf8")).toBe(task);
  });

  test("Slack secrets never reach a job", async () => {
    process.env.SLACK_BOT_TOKEN = "xoxb-secret-test";
    try {
      const r = await runExecJob({ command: 'echo "[$SLACK_BOT_TOKEN]"', cwd: dir, timeoutMs: 10_000 });
      expect(r.output).toBe("[]\n");
    } finally {
      delete process.env.SLACK_BOT_TOKEN;
    }
    expect(existsSync(dir)).toBe(true);
  });
});

describe("runExecJob on win32", () => {
  test("win32: a multi-line exec command is not started, and says why", async () => {
    const r = await runExecJob({ command: "echo one > m1\necho two > m2", cwd: dir, timeoutMs: 1000 }, "win32");
    expect(r.notStarted).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.output).toContain("first line");
    expect(jobSummary(r)).toBe("not run");
    expect(existsSync(join(dir, "m1"))).toBe(false);
  });
});

describe("childEnv", () => {
  test("drops names case-insensitively (Windows)", () => {
    expect(childEnv(["SLACK_BOT_TOKEN"], { Slack_Bot_Token: "x", PATH: "/bin", GONE: undefined })).toEqual({ PATH: "/bin" });
  });
});

describe("formatJobResult", () => {
  const base: JobResult = { exitCode: 0, output: "", timedOut: false, durationMs: 1234, truncatedBytes: 0 };

  test("summary lines", () => {
    expect(formatJobResult(base, 100)).toBe("exit 0 in 1.2 s");
    expect(jobSummary({ ...base, exitCode: 2, durationMs: 45_400 })).toBe("exit 2 in 45 s");
    expect(jobSummary({ ...base, exitCode: null, timedOut: true, durationMs: 300_020 })).toBe("timed out after 300 s (process tree killed)");
    expect(jobSummary({ ...base, exitCode: null, aborted: true })).toBe("cancelled after 1.2 s (process tree killed)");
    expect(jobSummary({ ...base, truncatedBytes: 99 })).toBe("exit 0 in 1.2 s, 99 bytes of output cut");
  });

  test("output in a code block, its end kept within maxChars", () => {
    expect(formatJobResult({ ...base, output: "hello\n" }, 100)).toBe("exit 0 in 1.2 s\n```\nhello\n```");
    const long = Array.from({ length: 500 }, (_, i) => `line ${i}`).join("\n");
    const text = formatJobResult({ ...base, output: long }, 300);
    expect(text.length).toBeLessThanOrEqual(300);
    expect(text).toContain("chars cut]");
    expect(text.endsWith("line 499\n```")).toBe(true);
  });

  test("a ``` in the output cannot close the block", () => {
    const text = formatJobResult({ ...base, output: "a```b" }, 100);
    expect(text.match(/```/g)?.length).toBe(2);
  });
});
