import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execSpawn, formatJobResult, jobSummary, runCodeJob, runExecJob, type JobResult } from "../../src/jobs/exec.ts";
import { groupTree } from "../../src/jobs/process-group.ts";

const dir = mkdtempSync(join(tmpdir(), "clawdbot-exec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(process.platform === "win32")("runExecJob / runCodeJob", () => {
  test("`echo a && echo b > f` runs exactly as typed, in cwd", async () => {
    const r = await runExecJob({ command: "echo a && echo b > f", cwd: dir, timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.output).toBe("a\n");
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("b\n");
  });

  test("onOutput: the newest output while it runs, redacted; a secret cut at the window's start is never shown in part", async () => {
    const secret = "S3CRET-abcdefghijklm"; // 20 characters
    // Lines of 31 characters: the 8 KB window starts 23 characters into a line, inside the secret.
    const seen: string[] = [];
    let latest = () => "";
    const r = await runExecJob({
      command: `i=0; while [ $i -lt 400 ]; do echo "xxxxxxxxxx${secret}"; i=$((i+1)); done`,
      cwd: dir,
      timeoutMs: 10_000,
      redact: (t) => t.split(secret).join("[redacted]"),
      onOutput: (l) => {
        latest = l;
        seen.push(l());
      },
    });
    expect(r.exitCode).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    const last = latest();
    expect(last.endsWith("xxxxxxxxxx[redacted]\n")).toBe(true);
    expect(last.length).toBeLessThan(8 * 1024);
    for (const text of [...seen, last]) {
      expect(text).not.toContain(secret.slice(13));
      expect(text).not.toContain(secret);
    }
  });

  test("exit codes propagate", async () => {
    const r = await runExecJob({ command: "echo oops >&2; exit 3", cwd: dir, timeoutMs: 10_000 });
    expect(r.exitCode).toBe(3);
    expect(r.output).toBe("oops\n");
  });

  test("timeout is reported, with what was killed", async () => {
    const r = await runExecJob({ command: "sleep 30", cwd: dir, timeoutMs: 200, tree: () => groupTree() });
    expect(r.timedOut).toBe(true);
    expect(jobSummary(r)).toMatch(/^timed out after 0\.\d s \(its process group killed; a process that left the group may still run\)$/);
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

  // What the bot's environment holds in production: none of it may reach a job.
  const BOT_ENV = {
    SLACK_BOT_TOKEN: "xoxb-secret-test",
    SLACK_SIGNING_SECRET: "signing-secret-test",
    ANTHROPIC_API_KEY: "sk-ant-secret-test",
    ANTHROPIC_BASE_URL: "https://u:api-pass-test@api.example",
    CLAWDBOT_RELAY_URL: "https://u:relay-pass-test@relay.example",
    CLAWDBOT_APPROVERS: "U1",
    HTTPS_PROXY: "http://u:proxy-pass-test@proxy.example",
  };

  async function withBotEnv<T>(fn: () => Promise<T>): Promise<T> {
    Object.assign(process.env, BOT_ENV);
    try {
      return await fn();
    } finally {
      for (const k of Object.keys(BOT_ENV)) delete process.env[k];
    }
  }

  const names = (envOutput: string) => envOutput.split("\n").map((l) => l.split("=")[0] ?? "").filter(Boolean);
  const ALLOWED = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LC_\w+|TZ|TMPDIR|TERM|PWD|SHLVL|_|OLDPWD)$/; // the last four: sh sets them

  test("an exec job running `env` sees only the allowlist: no secret, no CLAWDBOT_*", async () => {
    const r = await withBotEnv(() => runExecJob({ command: "env", cwd: dir, timeoutMs: 10_000 }));
    expect(r.exitCode).toBe(0);
    expect(names(r.output).filter((n) => !ALLOWED.test(n))).toEqual([]);
    for (const v of Object.values(BOT_ENV)) expect(r.output).not.toContain(v);
    expect(names(r.output)).toContain("PATH");
  });

  test("a code job sees the same allowlist (no API key either)", async () => {
    const r = await withBotEnv(() => runCodeJob({ codeCommand: "env", task: "", cwd: dir, timeoutMs: 10_000 }));
    expect(names(r.output).filter((n) => !ALLOWED.test(n))).toEqual([]);
    expect(r.output).not.toContain("sk-ant-secret-test");
  });

  test("output is redacted whole: a secret split across two reads of the pipe is still caught", async () => {
    const secret = "S3CRET-split-across-reads";
    const redact = (t: string) => t.split(secret).join("[redacted]");
    // Two writes with a pause between: the pipe delivers them as separate chunks.
    const r = await runExecJob({ command: "printf 'token=S3CRET-split'; sleep 0.2; printf '%s\\n' -across-reads", cwd: dir, timeoutMs: 10_000, redact });
    expect(r.output).toBe("token=[redacted]\n");
  });

  test("the reason a job could not start is redacted too", async () => {
    const r = await runExecJob({ command: "true", cwd: join(dir, "missing-hunter2-dir"), timeoutMs: 1000, redact: (t) => t.replaceAll("hunter2", "[redacted]") });
    expect(r.notStarted).toBe(true);
    expect(r.output).not.toContain("hunter2");
  });
});

describe("runExecJob on win32", () => {
  test("win32: `set` runs through cmd.exe with only the allowlisted variables, whatever their case", () => {
    const windowsEnv = {
      Path: "C:\\Windows\\system32",
      PATHEXT: ".COM;.EXE;.BAT;.CMD",
      SystemRoot: "C:\\Windows",
      ComSpec: "C:\\Windows\\system32\\cmd.exe",
      TEMP: "C:\\Temp",
      "ProgramFiles(x86)": "C:\\Program Files (x86)",
      slack_bot_token: "xoxb-secret-test",
      Clawdbot_Relay_Url: "https://u:relay-pass-test@relay.example",
      ANTHROPIC_BASE_URL: "https://u:api-pass-test@api.example",
      HTTP_PROXY: "http://u:proxy-pass-test@proxy.example",
    };
    const spawn = execSpawn({ command: "set", cwd: dir, timeoutMs: 1000 }, "win32", windowsEnv);
    expect(spawn.argv.slice(1)).toEqual(["/d", "/s", "/c", '"set"']);
    expect(Object.keys(spawn.env ?? {}).sort()).toEqual(["ComSpec", "PATHEXT", "Path", "ProgramFiles(x86)", "SystemRoot", "TEMP"]);
  });

  test("win32: a multi-line exec command is not started, and says why", async () => {
    const r = await runExecJob({ command: "echo one > m1\necho two > m2", cwd: dir, timeoutMs: 1000 }, "win32");
    expect(r.notStarted).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.output).toContain("first line");
    expect(jobSummary(r)).toBe("not run");
    expect(existsSync(join(dir, "m1"))).toBe(false);
  });
});

describe("formatJobResult", () => {
  const base: JobResult = { exitCode: 0, output: "", timedOut: false, durationMs: 1234, truncatedBytes: 0 };

  test("summary lines", () => {
    expect(formatJobResult(base, 100)).toBe("exit 0 in 1.2 s");
    expect(jobSummary({ ...base, exitCode: 2, durationMs: 45_400 })).toBe("exit 2 in 45 s");
    expect(jobSummary({ ...base, exitCode: null, timedOut: true, durationMs: 300_020 })).toBe("timed out after 300 s");
    const tree = { means: "cgroup", verified: true, killed: 3 } as const;
    expect(jobSummary({ ...base, exitCode: null, timedOut: true, durationMs: 300_020, tree })).toBe("timed out after 300 s (process tree killed)");
    expect(jobSummary({ ...base, exitCode: null, aborted: true, tree })).toBe("cancelled after 1.2 s (process tree killed)");
    expect(jobSummary({ ...base, tree })).toBe("exit 0 in 1.2 s (3 background processes it left killed)");
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
