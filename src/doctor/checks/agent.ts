// The agent that answers. echo: a WARN (it only repeats). command: the program exists and
// answers one test message (run once, as the bot would, with a short limit). anthropic: the
// key is accepted and the model exists: the Models API's retrieve, which costs nothing.
import Anthropic, { APIConnectionError, APIError } from "@anthropic-ai/sdk";
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { CommandAgent } from "../../agents/command.ts";
import { type Config, DEFAULT_MODEL } from "../../config.ts";
import { type Check, type CheckResult, type DoctorContext, errText, fail, pass, secs, warn } from "../types.ts";
import { existingDir } from "./store.ts";

const NAME = "agent";

/** How much longer than other checks the agent command may take: it may call a model itself. */
const COMMAND_TIME_FACTOR = 3;

const TEST_MESSAGE = {
  text: "clawdbot doctor: a test message; any answer will do",
  user: "U0DOCTOR",
  channel: "D0DOCTOR",
  threadTs: undefined,
  context: [],
};

const commandLimit = (ctx: DoctorContext) => Math.min(ctx.config.agentTimeoutMs, ctx.timeoutMs * COMMAND_TIME_FACTOR);

/** The program a command line starts: its first word, quotes removed. */
export function executableOf(command: string): string {
  const m = /^\s*(?:"([^"]+)"|'([^']+)'|(\S+))/.exec(command);
  return m?.[1] ?? m?.[2] ?? m?.[3] ?? "";
}

function findExecutable(exe: string, cwd: string): string | null {
  if (/[\\/]/.test(exe)) {
    const path = isAbsolute(exe) ? exe : resolve(cwd, exe);
    return existsSync(path) ? path : null;
  }
  return Bun.which(exe);
}

async function checkCommand(ctx: DoctorContext, signal: AbortSignal): Promise<CheckResult> {
  const c = ctx.config;
  const command = c.agentCommand ?? "";
  // The bot runs it in CLAWDBOT_EXEC_CWD; the data dir (its default) is made by the first run.
  if (!existsSync(c.execCwd) && c.execCwd !== c.dataDir) {
    return fail(NAME, `CLAWDBOT_EXEC_CWD ${c.execCwd} does not exist: the agent command cannot start there`, "create it or set CLAWDBOT_EXEC_CWD to an existing folder");
  }
  const cwd = existingDir(c.execCwd);
  const exe = executableOf(command);
  const limit = commandLimit(ctx);
  const started = Date.now();
  try {
    const reply = await new CommandAgent({ command, timeoutMs: limit, cwd }).answer(TEST_MESSAGE, signal);
    const text = reply.reply.replace(/\s+/g, " ").trim();
    const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    return pass(NAME, `command agent: ${exe} answered a test message in ${Date.now() - started} ms ("${shown}")`);
  } catch (err) {
    const why = errText(err);
    if (!findExecutable(exe, cwd)) {
      return fail(NAME, `command agent: ${exe} is not found (not on PATH, not a file): ${why}`, "install it, or give its full path in CLAWDBOT_AGENT_COMMAND");
    }
    const byHand = "run CLAWDBOT_AGENT_COMMAND by hand with a message as JSON on stdin ({\"text\":\"hi\",...}): it must print a reply and exit 0";
    if (Date.now() - started >= limit) {
      // Slow is not broken: a command that asks a model may need longer than doctor waits.
      return warn(NAME, `command agent: ${exe} did not answer a test message within ${secs(limit)} (doctor's limit; the bot waits ${secs(c.agentTimeoutMs)})`, byHand);
    }
    return fail(NAME, `command agent: ${why}`, byHand);
  }
}

async function checkAnthropic(c: Config, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  const base = c.anthropicBaseUrl ?? "https://api.anthropic.com";
  const client = new Anthropic({ apiKey: c.anthropicApiKey ?? "", baseURL: c.anthropicBaseUrl, timeout: timeoutMs, maxRetries: 0, logLevel: "off" });
  try {
    const m = await client.models.retrieve(c.model, {}, { signal });
    return pass(NAME, `anthropic agent: ${base} accepts ANTHROPIC_API_KEY; model ${m.id} is available`);
  } catch (err) {
    if (err instanceof APIConnectionError) {
      return fail(NAME, `anthropic agent: cannot reach ${base} (${errText(err)})`, "check ANTHROPIC_BASE_URL (unset for Anthropic's API), the network and any proxy");
    }
    if (!(err instanceof APIError)) return fail(NAME, `anthropic agent: ${errText(err)}`, "check ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY");
    const what = `${err.status ?? "?"} ${err.type ?? "error"}${err.apiMessage ? `: ${err.apiMessage}` : ""}`;
    if (err.status === 401) {
      return fail(NAME, `anthropic agent: ${base} refuses ANTHROPIC_API_KEY (${what})`, "create a key in the Anthropic Console (API keys) and set ANTHROPIC_API_KEY to it");
    }
    if (err.status === 403) {
      return fail(NAME, `anthropic agent: ANTHROPIC_API_KEY may not use ${c.model} (${what})`, "use a key of a workspace that has access, or another CLAWDBOT_MODEL");
    }
    if (err.status === 404) {
      return fail(NAME, `anthropic agent: model ${c.model} not found at ${base} (${what})`, `set CLAWDBOT_MODEL to a model your key can use (default ${DEFAULT_MODEL}), or check ANTHROPIC_BASE_URL`);
    }
    // 429, 5xx, 529 overloaded: the key may well be right; the API is busy.
    return warn(NAME, `anthropic agent: ${base} answered ${what}; the key could not be checked`, "run clawdbot doctor again in a minute");
  }
}

export const agentCheck: Check = {
  name: NAME,
  needs: ["CLAWDBOT_AGENT", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAWDBOT_AGENT_COMMAND", "CLAWDBOT_AGENT_TIMEOUT"],
  timeoutMs: (ctx) => (ctx.config.agent === "command" ? commandLimit(ctx) : ctx.timeoutMs),
  async run(ctx, signal) {
    const c = ctx.config;
    if (c.agent === "command") return [await checkCommand(ctx, signal)];
    if (c.agent === "anthropic") return [await checkAnthropic(c, ctx.timeoutMs, signal)];
    return [
      warn(
        NAME,
        "echo agent: replies only repeat the message (for trials)",
        "set ANTHROPIC_API_KEY for Claude, or CLAWDBOT_AGENT_COMMAND for your own program",
      ),
    ];
  },
};
