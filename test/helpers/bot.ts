// Test harness: an emulator, a bot pointed at it (in-process or the compiled executable),
// and temp data dirs. Tests wait for conditions; nothing here sleeps for a fixed time.
import { mkdtempSync, rmSync, statSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { SlackEmulator } from "../../src/emulator/index.ts";
import { type Runtime, startRuntime } from "../../src/runtime.ts";
import type { SlackEmulatorOptions } from "../../src/emulator/types.ts";

export const ROOT = join(import.meta.dir, "..", "..");
export const BINARY = join(ROOT, "dist", process.platform === "win32" ? "clawdbot.exe" : "clawdbot");

export function tempDir(prefix = "clawdbot-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startEmulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const emu = new SlackEmulator({ pingIntervalMs: 0, ...opts });
  await emu.start();
  return emu;
}

/** The environment of a bot pointed at `emu`, with test-speed intervals. */
export function botEnv(emu: SlackEmulator, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: emu.options.botToken,
    SLACK_APP_TOKEN: emu.options.appToken,
    SLACK_API_URL: emu.apiUrl,
    CLAWDBOT_DATA_DIR: dataDir,
    CLAWDBOT_HEALTH_PORT: "0",
    CLAWDBOT_RECONNECT_INITIAL: "0.05",
    CLAWDBOT_RECONNECT_MAX: "0.5",
    CLAWDBOT_LIVENESS_TIMEOUT: "2",
    CLAWDBOT_CONSOLE_LEVEL: process.env.CLAWDBOT_TEST_VERBOSE ? "4" : "1",
    CLAWDBOT_OUTBOX_RETRY_MS: "50",
    ...extra,
  };
}

export interface InProcessBot {
  rt: Runtime;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startBot(emu: SlackEmulator, extra: Record<string, string> = {}, dataDir = tempDir()): Promise<InProcessBot> {
  const env = botEnv(emu, dataDir, extra);
  const rt = await startRuntime({ config: loadConfig(env), consoleLevel: Number(env.CLAWDBOT_CONSOLE_LEVEL) });
  return { rt, dataDir, stop: () => rt.stop() };
}

let built: Promise<string> | null = null;

/** Builds dist/clawdbot once per test run if it is missing or older than the sources. */
export function ensureBinary(): Promise<string> {
  built ??= (async () => {
    if (!process.env.CLAWDBOT_SKIP_BUILD && (!exists(BINARY) || newestSource() > statSync(BINARY).mtimeMs)) {
      const p = Bun.spawn(["bun", "build.ts", "--native"], { cwd: ROOT, stdout: "ignore", stderr: "pipe" });
      if ((await p.exited) !== 0) throw new Error(`build failed: ${await new Response(p.stderr).text()}`);
    }
    return BINARY;
  })();
  return built;
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function newestSource(dir = join(ROOT, "src")): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export interface BotProcess {
  proc: ReturnType<typeof Bun.spawn>;
  output(): string;
  /** Resolves to the health port once the bot printed it. */
  healthPort(): Promise<number>;
  exited: Promise<number>;
}

/** Runs the compiled executable with `args` and `env` (nothing inherited but PATH/HOME). */
export async function spawnBot(args: string[], env: Record<string, string>, opts: { cwd?: string } = {}): Promise<BotProcess> {
  const bin = await ensureBinary();
  const proc = Bun.spawn([bin, ...args], {
    cwd: opts.cwd,
    // Level 3 at least: the harness reads the health port from the start-up line.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env, CLAWDBOT_CONSOLE_LEVEL: "3" },
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) out += dec.decode(chunk, { stream: true });
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  return {
    proc,
    output: () => out,
    exited: proc.exited,
    healthPort: async () => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const m = /health on http:\/\/[^:]+:(\d+)\/health/.exec(out);
        if (m) return Number(m[1]);
        if (proc.exitCode !== null) throw new Error(`bot exited ${proc.exitCode}: ${out}`);
        if (Date.now() > deadline) throw new Error(`bot did not start: ${out}`);
        await Bun.sleep(10);
      }
    },
  };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Polls `fn` until it returns a truthy value (or throws on timeout, naming `what`). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(5);
  }
}
