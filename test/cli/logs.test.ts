// `clawdbot logs`: the log store read-only, while a bot writes to it and while none runs.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import logsCmd, { follow, type LogsOutput, levelsFrom, parseSince, printTail } from "../../src/cli/logs.ts";
import stateCmd from "../../src/cli/state.ts";
import { openStore, storeLocation } from "../../src/store/index.ts";
import { cleanup, ensureBinary, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { runCli } from "../helpers/cli.ts";

const T0 = Date.parse("2025-03-01T10:00:00.000Z");
const MIN = 60_000;
let dir: string;
let dbPath: string;

beforeEach(() => {
  dir = tempDir("clawdbot-logs-");
  dbPath = storeLocation({ dataDir: dir });
});
afterEach(() => cleanup(dir));

/** Lines 0..n-1, a minute apart, cycling through the levels; odd lines carry fields. */
async function seed(n: number, start = T0): Promise<void> {
  const s = await openStore(dbPath);
  const levels = ["debug", "info", "warn", "error", "critical"];
  for (let i = 0; i < n; i++) await s.logs.append(start + i * MIN, levels[i % 5] as string, `line ${i}`, i % 2 ? JSON.stringify({ i }) : undefined);
  await s.close();
}

const logs = (...args: string[]) => runCli(logsCmd, "--db", dbPath, ...args);
const msgs = (out: string) => out.split("\n").filter(Boolean).map((l) => /line \d+/.exec(l)?.[0]);

describe("clawdbot logs (in-process)", () => {
  test("newest last, one line each: time, level, message, fields; -n picks the last N", async () => {
    await seed(5);
    const all = await logs();
    expect(all.code).toBe(0);
    expect(all.out.split("\n")).toEqual([
      "2025-03-01T10:00:00.000Z DEBUG line 0",
      '2025-03-01T10:01:00.000Z INFO  line 1 {"i":1}',
      "2025-03-01T10:02:00.000Z WARN  line 2",
      '2025-03-01T10:03:00.000Z ERROR line 3 {"i":3}',
      "2025-03-01T10:04:00.000Z CRIT  line 4",
    ]);
    expect(msgs((await logs("-n", "2")).out)).toEqual(["line 3", "line 4"]);
    expect(msgs((await logs("--lines", "1")).out)).toEqual(["line 4"]);
  });

  test("--json: one object per line with parsed fields", async () => {
    await seed(2);
    const { out } = await logs("--json");
    expect(out.split("\n").map((l) => JSON.parse(l))).toEqual([
      { id: 1, at: "2025-03-01T10:00:00.000Z", level: "debug", msg: "line 0", fields: null },
      { id: 2, at: "2025-03-01T10:01:00.000Z", level: "info", msg: "line 1", fields: { i: 1 } },
    ]);
  });

  test("--level is that level and worse; --grep matches message or fields; -n counts what matched", async () => {
    await seed(20);
    expect(msgs((await logs("--level", "error")).out)).toEqual(["line 3", "line 4", "line 8", "line 9", "line 13", "line 14", "line 18", "line 19"]);
    expect(msgs((await logs("--level", "critical", "-n", "2")).out)).toEqual(["line 14", "line 19"]);
    expect(msgs((await logs("--grep", "line 1[0-2]$|\"i\":15")).out)).toEqual(["line 10", "line 12", "line 15"]);
    expect(msgs((await logs("--grep", "line", "-n", "3", "--level", "warn")).out)).toEqual(["line 17", "line 18", "line 19"]);
  });

  test("-n with --grep pages back past lines that do not match", async () => {
    await seed(1200);
    expect(msgs((await logs("--grep", "^line (2|8)$", "-n", "5")).out)).toEqual(["line 2", "line 8"]);
  });

  test("--since takes durations and ISO times", async () => {
    const now = Date.now();
    await seed(10, now - 9 * MIN - 1000);
    expect(msgs((await logs("--since", "2m")).out)).toEqual(["line 8", "line 9"]);
    expect(msgs((await logs("--since", "1h", "-n", "3")).out)).toEqual(["line 7", "line 8", "line 9"]);
    const iso = new Date(now - 4 * MIN - 1000).toISOString();
    expect(msgs((await logs("--since", iso)).out)).toEqual(["line 5", "line 6", "line 7", "line 8", "line 9"]);
    expect(parseSince("1d", now)).toBe(now - 86_400_000);
    expect(parseSince("90s", now)).toBe(now - 90_000);
    expect(parseSince("2025-03-01T10:00:00Z", now)).toBe(T0);
  });

  test("bad arguments: one line, exit 2", async () => {
    await seed(1);
    for (const [args, start] of [
      [["--level", "loud"], 'clawdbot logs: --level "loud"'],
      [["--since", "yesterday"], 'clawdbot logs: --since "yesterday"'],
      [["--since", "10 parsecs"], 'clawdbot logs: --since "10 parsecs"'],
      [["-n", "-3"], 'clawdbot logs: -n "-3"'],
      [["-n", "many"], 'clawdbot logs: -n "many"'],
      [["--grep", "(unclosed"], 'clawdbot logs: --grep "(unclosed"'],
    ] as const) {
      const r = await logs(...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.message).toStartWith(start);
      expect(r.message).not.toContain("\n");
    }
    expect(levelsFrom("WARNING")).toEqual(["warn", "error", "critical"]);
  });

  test("no store: exit 2 with state dump's words", async () => {
    const r = await logs();
    const dump = await runCli(stateCmd, "dump", "--db", dbPath);
    expect(r.code).toBe(2);
    expect(r.message).toBe(dump.message);
    expect(r.message).toStartWith(`no store at ${dbPath}: file does not exist`);
  });

  test("follow prints what arrives after the tail, matching the filters, until stopped", async () => {
    await seed(3);
    const printed: string[] = [];
    const out: LogsOutput = { json: false, colour: false, print: (l) => printed.push(l) };
    const reader = await openStore(dbPath, { readonly: true });
    const writer = await openStore(dbPath);
    const q = { lines: 1, levels: levelsFrom("info") };
    const newest = await printTail(reader, q, out);
    expect(msgs(printed.join("\n"))).toEqual(["line 2"]);
    const stop = new AbortController();
    const following = follow(reader, q, out, newest, 5, stop.signal);
    await writer.logs.append(T0, "debug", "line 3");
    await writer.logs.append(T0, "error", "line 4");
    await waitFor(() => printed.length === 2, "the new error line");
    await writer.logs.append(T0, "info", "line 5");
    await waitFor(() => printed.length === 3, "the next line");
    stop.abort();
    await following;
    expect(msgs(printed.join("\n"))).toEqual(["line 2", "line 4", "line 5"]);
    await writer.close();
    await reader.close();
  });
});

describe("clawdbot logs (compiled)", () => {
  test("reads a running bot's log, --follow shows new lines, and SIGINT ends it with 0", async () => {
    const bin = await ensureBinary();
    const emu = await startEmulator();
    const bot = await startBot(emu, {}, dir);
    try {
      bot.rt.log.warn("marker before", { n: 1 });
      const env = { PATH: process.env.PATH ?? "", CLAWDBOT_DATA_DIR: dir, CLAWDBOT_LOGS_POLL_MS: "20" };
      const once = Bun.spawnSync([bin, "logs", "--level", "warn"], { env });
      expect(once.exitCode).toBe(0);
      expect(once.stdout.toString()).toMatch(/^\S+Z WARN {2}marker before \{"n":1\}$/m);

      const p = Bun.spawn([bin, "logs", "-f", "-n", "0", "--grep", "marker"], { env, stdout: "pipe", stderr: "pipe" });
      let out = "";
      void (async () => {
        for await (const c of p.stdout as ReadableStream<Uint8Array>) out += new TextDecoder().decode(c);
      })();
      // The follower is up once it has read the store; keep logging until a line shows.
      await waitFor(() => {
        bot.rt.log.error("marker after");
        return out.includes("ERROR marker after");
      }, "the followed line");
      expect(out).not.toContain("marker before");
      p.kill("SIGINT");
      expect(await p.exited).toBe(0);
    } finally {
      await bot.stop();
      await emu.stop();
    }
    // And with the bot stopped.
    const after = Bun.spawnSync([bin, "logs", "--json", "--grep", "marker after", "-n", "1"], { env: { PATH: process.env.PATH ?? "", CLAWDBOT_DATA_DIR: dir } });
    expect(after.exitCode).toBe(0);
    expect(JSON.parse(after.stdout.toString())).toMatchObject({ level: "error", msg: "marker after" });
  });

  test("no store: exit 2, the same line as state dump", async () => {
    const bin = await ensureBinary();
    const env = { PATH: process.env.PATH ?? "", CLAWDBOT_DATA_DIR: join(dir, "none") };
    const l = Bun.spawnSync([bin, "logs"], { env });
    const s = Bun.spawnSync([bin, "state", "dump"], { env });
    expect(l.exitCode).toBe(2);
    expect(l.stderr.toString()).toBe(s.stderr.toString());
    expect(l.stderr.toString()).toStartWith(`no store at ${join(dir, "none", "clawdbot.db")}: file does not exist`);
  });
});
