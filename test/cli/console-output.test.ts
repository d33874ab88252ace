// Console output fit for a log file: Task Scheduler and systemd redirect it, so piped it has
// no ANSI codes, every line starts with its time, and one event is one line.
import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { formatLogLine, stripAnsi, useColor } from "../../src/log.ts";
import { cleanup, ensureBinary, spawnBot, tempDir, waitFor } from "../helpers/bot.ts";

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escapes
const ANSI = /\u001b\[/;
const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN |ERROR|CRIT ) \S/;

/** A loopback port nothing listens on: Slack unreachable. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe("colour and layout decisions", () => {
  test("colour only on a terminal, never with NO_COLOR or TERM=dumb", () => {
    expect(useColor({ isTTY: true }, {})).toBe(true);
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({}, { FORCE_COLOR: "1" })).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(useColor({ isTTY: true }, { NO_COLOR: "" })).toBe(true); // no-color.org: empty means unset
    expect(useColor({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });

  test("a log line: ISO time, level, message with its line breaks escaped, fields; colour only when asked", () => {
    const at = Date.parse("2025-03-01T10:00:00.000Z");
    expect(formatLogLine(at, "warn", "two\nlines", '{"a":1}')).toBe('2025-03-01T10:00:00.000Z WARN  two\\nlines {"a":1}');
    expect(formatLogLine(at, "critical", "x")).toBe("2025-03-01T10:00:00.000Z CRIT  x");
    const coloured = formatLogLine(at, "error", "x", null, true);
    expect(coloured).toMatch(ANSI);
    expect(stripAnsi(coloured)).toBe("2025-03-01T10:00:00.000Z ERROR x");
  });
});

describe("the compiled binary, piped", () => {
  test("Slack unreachable: every line timestamped, no ANSI, each failed attempt logged once", async () => {
    const dir = tempDir();
    const port = await closedPort();
    const bot = await spawnBot(["run"], {
      SLACK_BOT_TOKEN: "xoxb-test-1",
      SLACK_APP_TOKEN: "xapp-test-1",
      SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
      CLAWDBOT_DATA_DIR: dir,
      CLAWDBOT_HEALTH_PORT: "0",
      CLAWDBOT_RECONNECT_INITIAL: "0.02",
      CLAWDBOT_RECONNECT_MAX: "0.05",
    });
    try {
      await waitFor(() => (bot.output().match(/connection attempt failed/g) ?? []).length >= 3, "three failed attempts");
      bot.proc.kill("SIGINT");
      expect(await bot.exited).toBe(0);
      const lines = bot.output().trimEnd().split("\n");
      expect(bot.output()).not.toMatch(ANSI);
      for (const line of lines) expect(line).toMatch(LINE);
      // The reason appears once per attempt: no second "reconnecting in" line repeating it.
      const attempts = lines.filter((l) => l.includes("connection attempt failed"));
      const mentions = lines.filter((l) => l.includes("ECONNREFUSED") || l.includes("Unable to connect"));
      expect(mentions).toEqual(attempts);
      for (const a of attempts) expect(a).toMatch(/\(failures: \d+\); retrying in \d+\.\d s$/);
    } finally {
      if (bot.proc.exitCode === null) bot.proc.kill(9);
      cleanup(dir);
    }
  });

  test("help, usage errors and configuration errors carry no ANSI codes when piped", async () => {
    const bin = await ensureBinary();
    const env = { PATH: process.env.PATH ?? "", HOME: tempDir() };
    for (const args of [["--help"], ["state", "--help"], ["bogus"], ["state"], ["run"]]) {
      const p = Bun.spawnSync([bin, ...args], { env });
      const all = p.stdout.toString() + p.stderr.toString();
      expect({ args, ansi: ANSI.test(all) }).toEqual({ args, ansi: false });
      expect(all.trim().length).toBeGreaterThan(0);
    }
    const bogus = Bun.spawnSync([bin, "bogus"], { env });
    expect(bogus.exitCode).toBe(2);
    expect(bogus.stderr.toString()).toBe("clawdbot: Unknown command bogus; see clawdbot --help\n");
  });

  test.skipIf(!Bun.which("script"))("on a terminal help is coloured, and NO_COLOR turns it off", async () => {
    const bin = await ensureBinary();
    // script(1) gives the binary a pseudo-terminal.
    const run = (env: Record<string, string>) =>
      Bun.spawnSync(["script", "-qec", `${bin} --help`, "/dev/null"], { env: { PATH: process.env.PATH ?? "", TERM: "xterm", ...env } }).stdout.toString();
    expect(run({})).toMatch(ANSI);
    expect(run({ NO_COLOR: "1" })).not.toMatch(ANSI);
  });
});
