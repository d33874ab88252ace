// Preloaded before every test run (bunfig.toml).
// 1. Builds dist/clawdbot once if the sources are newer, so no test pays for the build
//    inside its own timeout.
// 2. Stops the private PostgreSQL server after the last test if one was started.
// 3. The console lines of bots under test (their warnings and errors) are kept per test and
//    printed only when that test fails or times out: a passing run reads as a list of
//    passes. bun:test does not tell a hook whether the test passed, so `test` is wrapped:
//    the wrapper sees the test's own failure (and afterEach one that never settled).
//    CLAWDBOT_TEST_VERBOSE=1 prints everything as it happens.
import * as bunTest from "bun:test";
import { captureConsole } from "../src/log.ts";
import { ensureBinary } from "./helpers/bot.ts";
import { stopPostgres } from "./helpers/postgres.ts";

await ensureBinary();
bunTest.afterAll(stopPostgres);

if (!process.env.CLAWDBOT_TEST_VERBOSE) {
  let lines: string[] = [];
  let running = false;
  captureConsole((_stream, line) => void lines.push(line));
  const flush = (why: string) => {
    if (lines.length) process.stderr.write(`--- console of the bots in this test (${why}):\n${lines.join("\n")}\n---\n`);
    lines = [];
  };

  type Fn = (...a: unknown[]) => unknown;
  // A test taking a done callback is passed through as it is (its arity is how bun knows).
  const wrap = (fn: unknown) =>
    typeof fn !== "function" || fn.length > 0
      ? fn
      : async function (this: unknown, ...a: unknown[]) {
          running = true;
          try {
            const r = await (fn as Fn).apply(this, a);
            lines = [];
            return r;
          } catch (err) {
            flush("it failed");
            throw err;
          } finally {
            running = false;
          }
        };

  type TestFn = (name: string, fn?: unknown, opts?: unknown) => unknown;
  const orig = bunTest.test as unknown as TestFn & Record<string, (...a: unknown[]) => TestFn>;
  const wrapped = ((name: string, fn?: unknown, opts?: unknown) => orig(name, wrap(fn), opts)) as TestFn & Record<string, unknown>;
  // Not `only`: under CI=true bun refuses even reading test.only (and no committed test uses it).
  for (const k of ["skip", "todo", "failing", "serial", "concurrent"] as const) {
    if (orig[k]) wrapped[k] = (name: string, fn?: unknown, opts?: unknown) => (orig[k] as unknown as TestFn)(name, wrap(fn), opts);
  }
  for (const k of ["if", "skipIf", "todoIf", "each"] as const) {
    if (orig[k]) wrapped[k] = (arg: unknown) => (name: string, fn?: unknown, opts?: unknown) => (orig[k] as (a: unknown) => TestFn)(arg)(name, wrap(fn), opts);
  }
  bunTest.mock.module("bun:test", () => ({ ...bunTest, test: wrapped, it: wrapped }));
  // A test that timed out never settles: its lines are shown when bun moves on.
  bunTest.afterEach(() => {
    if (running) flush("it timed out");
    running = false;
  });
}
