// The command agent: an operator-supplied program answers each message. It gets the
// message as JSON on stdin and answers on stdout, as plain text or as JSON with jobs. It may
// stream: each stdout line `{"delta": "..."}` is text of the answer as it grows (README).
import { formatSeconds } from "../core/text.ts";
import { jobEnv } from "../jobs/job-env.ts";
import { runProcess, type RunResult } from "../jobs/run-process.ts";
import { shellArgv } from "../jobs/shell.ts";
import { describeTree } from "../jobs/tree.ts";
import { AgentError, type Agent, type AgentReply, type AgentRequest, type JobRequest, type OnDelta, type Usage } from "./types.ts";

/** A reply longer than this is a runaway program, not an answer. */
const MAX_REPLY_BYTES = 1024 * 1024;

export interface CommandAgentOptions {
  command: string;
  timeoutMs: number;
  cwd?: string;
}

export class CommandAgent implements Agent {
  readonly kind = "command" as const;

  constructor(private readonly opts: CommandAgentOptions) {}

  async answer(req: AgentRequest, signal: AbortSignal, onDelta?: OnDelta): Promise<AgentReply> {
    const input = JSON.stringify({
      text: req.text,
      user: req.user,
      channel: req.channel,
      thread_ts: req.threadTs ?? null,
      context: req.context,
      // Contract: each {name, mimetype, size, text?}; images are not given to a command.
      files: (req.files ?? []).map(({ name, mimetype, size, text }) => (text === undefined ? { name, mimetype, size } : { name, mimetype, size, text })),
    });
    let r: RunResult;
    try {
      r = await runProcess({
        argv: shellArgv(this.opts.command),
        cwd: this.opts.cwd,
        stdin: input,
        timeoutMs: this.opts.timeoutMs,
        signal,
        // A job's environment: none of the bot's tokens, keys or URLs with passwords.
        env: jobEnv(),
        maxOutputBytes: MAX_REPLY_BYTES,
        onOutput: onDelta && deltaLines(onDelta),
      });
    } catch (err) {
      throw new AgentError(`agent command could not start: ${err instanceof Error ? err.message : String(err)}`);
    }
    // Cancellation is the caller's doing: surface its reason, as fetch does.
    if (r.aborted) signal.throwIfAborted();
    if (r.timedOut) throw new AgentError(`agent timed out after ${formatSeconds(this.opts.timeoutMs)}${r.tree ? ` (${describeTree(r.tree, "kill")})` : ""}`);
    if (r.exitCode !== 0) {
      const why = firstLine(r.stderr);
      const how = r.exitCode === null ? "was killed by a signal" : `exited with code ${r.exitCode}`;
      throw new AgentError(`agent command ${how}${why ? `: ${why}` : ""}`);
    }
    if (r.truncatedBytes > 0) throw new AgentError(`agent reply is over ${MAX_REPLY_BYTES} bytes`);
    return parseStreamedOutput(r.stdout);
  }
}

/** The text of a `{"delta": "..."}` line (an object with that one string field), else undefined. */
function deltaOf(line: string): string | undefined {
  const t = line.trim();
  if (!t.startsWith("{") || !t.endsWith("}")) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return isObject(v) && typeof v.delta === "string" && Object.keys(v).length === 1 ? v.delta : undefined;
  } catch {
    return undefined;
  }
}

/** stdout as it arrives, cut into lines; each delta line's text goes to `onDelta`. */
function deltaLines(onDelta: OnDelta): (text: string, stream: "stdout" | "stderr") => void {
  let partial = "";
  return (text, stream) => {
    if (stream !== "stdout") return;
    const lines = (partial + text).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const d = deltaOf(line);
      if (d !== undefined) onDelta(d);
    }
  };
}

/**
 * The whole stdout: delta lines are the streamed answer; what else it printed is the reply
 * (text or JSON, as without streaming), or, when there is nothing else, the deltas joined.
 */
export function parseStreamedOutput(stdout: string): AgentReply {
  const deltas: string[] = [];
  const rest: string[] = [];
  for (const line of stdout.split("\n")) {
    const d = deltaOf(line);
    if (d === undefined) rest.push(line);
    else deltas.push(d);
  }
  if (deltas.length === 0) return parseAgentOutput(stdout);
  const other = rest.join("\n");
  if (other.trim()) return parseAgentOutput(other);
  const reply = deltas.join("");
  if (!reply.trim()) throw new AgentError("agent command streamed an empty reply");
  return { reply, jobs: [] };
}

/** What of an error line is kept; the pipeline redacts it and shows less. */
const ERROR_LINE_CHARS = 1000;

function firstLine(text: string): string {
  const line = (text.split(/\r?\n/).find((l) => l.trim() !== "") ?? "").trim();
  if (line.length <= ERROR_LINE_CHARS) return line;
  // Cut between words: a secret is kept whole or dropped whole, so the redactor still knows it.
  const cut = line.slice(0, ERROR_LINE_CHARS + 1).search(/\s\S*$/);
  return cut > 0 ? `${line.slice(0, cut)} …` : "";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Plain text is the reply. A JSON object with a string `reply` is the structured answer;
 * any other JSON (a number, an array, an object without `reply`) is just text.
 */
export function parseAgentOutput(stdout: string): AgentReply {
  const text = stdout.trim();
  if (!text) throw new AgentError("agent command printed nothing");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { reply: text, jobs: [] };
  }
  if (!isObject(parsed) || typeof parsed.reply !== "string") return { reply: text, jobs: [] };

  const jobs: JobRequest[] = [];
  // A malformed job request is refused loudly: ignoring it would drop what the agent asked for.
  if (parsed.exec !== undefined && parsed.exec !== null) {
    const e = parsed.exec;
    if (!isObject(e) || typeof e.command !== "string" || !e.command.trim()) {
      throw new AgentError("agent answered an exec job without a command string");
    }
    const job: JobRequest = { kind: "exec", text: e.command };
    if (typeof e.reason === "string" && e.reason) job.reason = e.reason;
    jobs.push(job);
  }
  if (parsed.code !== undefined && parsed.code !== null) {
    const c = parsed.code;
    if (!isObject(c) || typeof c.task !== "string" || !c.task.trim()) {
      throw new AgentError("agent answered a code job without a task string");
    }
    jobs.push({ kind: "code", text: c.task });
  }
  if (!parsed.reply.trim() && jobs.length === 0) throw new AgentError("agent command answered an empty reply");

  const reply: AgentReply = { reply: parsed.reply, jobs };
  const usage = parseUsage(parsed.usage);
  if (usage) reply.usage = usage;
  return reply;
}

/** Usage is bookkeeping: a malformed one is dropped rather than failing the answer. */
function parseUsage(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined;
  const tokens = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0);
  return {
    provider: "command",
    model: typeof u.model === "string" && u.model ? u.model : "unknown",
    inputTokens: tokens(u.input_tokens),
    outputTokens: tokens(u.output_tokens),
  };
}
