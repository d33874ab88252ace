// The anthropic agent (contract: Agent): the official SDK, Messages API. The model may
// ask for a shell command or a code task through two tools; those never run here, they
// become approval cards, and the finished job comes back through resume() as a tool_result.
//
// One job per turn: the API wants a tool_result for every tool_use of an assistant turn
// before the conversation may go on. When the model asks for several tools at once, only
// the first valid one becomes a job; resume() answers the others with "not run: only one
// job per turn" (is_error), so the model can ask again, one at a time. This keeps one
// card, one continuation, and no forked conversations.
import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from "@anthropic-ai/sdk";
import type {
  ContentBlockParam,
  Message,
  MessageParam,
  MessageStreamParams,
  Tool,
  ToolResultBlockParam,
} from "@anthropic-ai/sdk/resources/messages/messages";
import type { AgentKind } from "../config.ts";
import type { Logger } from "../core/logger.ts";
import {
  type Agent,
  type AgentFile,
  type AgentReply,
  type AgentRequest,
  type ContextMessage,
  AgentError,
  type JobOutcome,
  type JobRequest,
  type OnDelta,
} from "./types.ts";

export interface AnthropicAgentOptions {
  apiKey: string;
  /** Unset: the SDK default (or ANTHROPIC_BASE_URL, which the SDK reads itself). */
  baseURL?: string;
  model: string;
  /** Per HTTP request; the SDK retries twice, the caller's signal bounds the whole. */
  timeoutMs: number;
  maxTokens?: number;
  log: Logger;
}

/** What an approval keeps to continue the conversation; JSON, stored with the approval. */
export interface AnthropicResumeState {
  v: 1;
  model: string;
  /** The whole conversation, ending with the assistant turn holding the tool_use blocks. */
  messages: MessageParam[];
  /** The tool_use this job answers. */
  toolUseId: string;
  /** Every tool_use id of that assistant turn, in order; each needs a tool_result. */
  toolUseIds: string[];
}

export const SYSTEM_PROMPT = [
  "You are clawdbot, an assistant in a Slack workspace. Answer briefly in Slack mrkdwn.",
  "You cannot run anything yourself. To run a shell command on the bot's host, use the run_command tool;",
  "for a coding task, use the code_task tool. Every tool call is shown to a human approver as a card and",
  "runs only if they approve; the result comes back to you as the tool result. Ask for one tool at a time,",
  "give the exact command, and say in the reason why it is needed.",
].join(" ");

const TOOLS: Tool[] = [
  {
    name: "run_command",
    description: "Run a shell command on the bot's host after a human approves it. Returns exit code and output.",
    input_schema: {
      type: "object",
      properties: {
        command: { type: "string", description: "The exact shell command, as it should be run." },
        reason: { type: "string", description: "Why it is needed; shown to the approver." },
      },
      required: ["command"],
    },
  },
  {
    name: "code_task",
    description: "Hand a coding task to the code runner after a human approves it. Returns its output.",
    input_schema: {
      type: "object",
      properties: { task: { type: "string", description: "The task, self-contained, as the code runner should get it." } },
      required: ["task"],
    },
  },
];

const MAX_RESULT_CHARS = 20_000;
const NOT_RUN = "not run: only one job per turn; ask again for it if it is still needed";

export class AnthropicAgent implements Agent {
  readonly kind: AgentKind = "anthropic";
  readonly seesImages = true;
  private readonly client: Anthropic;
  private readonly model: string;
  private readonly maxTokens: number;
  private readonly log: Logger;
  private readonly apiKey: string;

  constructor(opts: AnthropicAgentOptions) {
    this.model = opts.model;
    this.maxTokens = opts.maxTokens ?? 4096;
    this.log = opts.log;
    this.apiKey = opts.apiKey;
    this.client = new Anthropic({
      apiKey: opts.apiKey,
      baseURL: opts.baseURL,
      timeout: opts.timeoutMs,
      maxRetries: 2,
      // The SDK's own console logging would bypass our redacting logger.
      logLevel: "off",
    });
  }

  async answer(req: AgentRequest, signal: AbortSignal, onDelta?: OnDelta): Promise<AgentReply> {
    const messages = buildMessages(req.context, req.text, req.files);
    return this.turn(messages, signal, onDelta);
  }

  async resume(state: unknown, outcome: JobOutcome, signal: AbortSignal): Promise<AgentReply> {
    const s = parseState(state);
    const results: ToolResultBlockParam[] = s.toolUseIds.map((id) =>
      id === s.toolUseId
        ? { type: "tool_result", tool_use_id: id, content: describeOutcome(outcome), is_error: outcome.status !== "succeeded" }
        : { type: "tool_result", tool_use_id: id, content: NOT_RUN, is_error: true },
    );
    return this.turn([...s.messages, { role: "user", content: results }], signal);
  }

  /**
   * One Messages API call, streamed (the SDK's stream helper): its text goes to `onDelta` as
   * it comes; the finished message becomes the reply and at most one job.
   */
  private async turn(messages: MessageParam[], signal: AbortSignal, onDelta?: OnDelta): Promise<AgentReply> {
    const params: MessageStreamParams = {
      model: this.model,
      max_tokens: this.maxTokens,
      system: SYSTEM_PROMPT,
      tools: TOOLS,
      messages,
    };
    let res: Message;
    try {
      const stream = this.client.messages.stream(params, { signal });
      if (onDelta) {
        // Text blocks are joined by a line break in the reply; the preview does the same.
        let textBlocks = 0;
        stream.on("streamEvent", (e) => {
          if (e.type === "content_block_start" && e.content_block.type === "text" && textBlocks++ > 0) onDelta("\n");
        });
        stream.on("text", (delta) => onDelta(delta));
      }
      res = await stream.finalMessage();
    } catch (err) {
      throw new AgentError(this.describeError(err, signal));
    }

    const text = res.content
      .flatMap((b) => (b.type === "text" ? [b.text] : []))
      .join("\n")
      .trim();
    // Only text and tool_use go back into the conversation: we enable nothing else.
    const assistant: ContentBlockParam[] = [];
    for (const b of res.content) {
      if (b.type === "text" && b.text) assistant.push({ type: "text", text: b.text });
      if (b.type === "tool_use") assistant.push({ type: "tool_use", id: b.id, name: b.name, input: b.input });
    }
    const toolUses = res.content.flatMap((b) => (b.type === "tool_use" ? [b] : []));
    const history: MessageParam[] = [...messages, { role: "assistant", content: assistant }];

    let job: JobRequest | undefined;
    for (const use of toolUses) {
      const j = toJob(use.name, use.input);
      if (!j) {
        this.log.warn(`anthropic: ignored a ${use.name} tool call with bad input`);
        continue;
      }
      if (job) continue;
      const resume: AnthropicResumeState = {
        v: 1,
        model: res.model,
        messages: history,
        toolUseId: use.id,
        toolUseIds: toolUses.map((u) => u.id),
      };
      job = { ...j, resume };
    }
    if (toolUses.length > 1) this.log.info(`anthropic: model asked for ${toolUses.length} tools; one job per turn`);
    if (res.stop_reason === "max_tokens") this.log.warn("anthropic: answer cut at max_tokens");

    let reply = text;
    if (!reply) {
      if (job) reply = job.kind === "exec" ? "I'd like to run a command; it needs approval." : "I'd like to run a code task; it needs approval.";
      else if (res.stop_reason === "refusal") reply = "I can't help with that.";
      else reply = "(no answer)";
    }

    return {
      reply,
      jobs: job ? [job] : [],
      usage: {
        provider: "anthropic",
        model: res.model,
        inputTokens: res.usage.input_tokens,
        outputTokens: res.usage.output_tokens,
      },
    };
  }

  /** Short, and never the key: the message reaches Slack and the log. */
  private describeError(err: unknown, signal: AbortSignal): string {
    let msg: string;
    if (err instanceof APIUserAbortError || signal.aborted) {
      const reason = (signal.reason as { name?: unknown } | undefined)?.name;
      msg = reason === "TimeoutError" ? "anthropic: timed out" : "anthropic: request cancelled";
    }
    else if (err instanceof APIConnectionTimeoutError) msg = "anthropic: timed out";
    else if (err instanceof APIConnectionError) msg = "anthropic: cannot reach the API";
    else if (err instanceof APIError) {
      const what =
        err.status === 401 ? "the API key was rejected"
        : err.status === 403 ? "permission denied"
        : err.status === 429 ? "rate limited"
        : err.status === 529 ? "overloaded"
        : (err.apiMessage ?? err.type ?? "API error");
      msg = `anthropic: ${what} (HTTP ${err.status ?? "?"})`;
    } else msg = `anthropic: ${err instanceof Error ? err.message : String(err)}`;
    if (this.apiKey.length >= 6) msg = msg.split(this.apiKey).join("[redacted]");
    return msg.length > 300 ? `${msg.slice(0, 300)}...` : msg;
  }
}

/** A tool call as a job, or undefined when the input is not what the tool declares. */
function toJob(name: string, input: unknown): Omit<JobRequest, "resume"> | undefined {
  const i = (input ?? {}) as Record<string, unknown>;
  if (name === "run_command" && typeof i.command === "string" && i.command.trim()) {
    return typeof i.reason === "string" && i.reason.trim()
      ? { kind: "exec", text: i.command, reason: i.reason }
      : { kind: "exec", text: i.command };
  }
  if (name === "code_task" && typeof i.task === "string" && i.task.trim()) {
    return { kind: "code", text: i.task };
  }
  return undefined;
}

/**
 * Context turns plus the new text, as the API wants them: alternating roles, a user turn
 * first, no empty text. Consecutive same-role turns are merged; a context that starts
 * with the bot gets a short user turn before it; a context whose last turn is the new
 * message itself (the relay may already have it) does not repeat it.
 */
export function buildMessages(context: ContextMessage[], text: string, files: AgentFile[] = []): MessageParam[] {
  const turns: ContextMessage[] = context.filter((m) => m.text.trim() !== "");
  const last = turns.at(-1);
  if (last && last.role === "user" && last.text.trim() === text.trim()) turns.pop();
  const empty = files.length ? "(no text: only the attached files)" : "(empty message)";
  turns.push({ role: "user", text: text.trim() === "" ? empty : text });

  const merged: ContextMessage[] = [];
  for (const t of turns) {
    const prev = merged.at(-1);
    if (prev && prev.role === t.role) prev.text = `${prev.text}\n\n${t.text}`;
    else merged.push({ ...t });
  }
  if (merged[0]?.role === "assistant") merged.unshift({ role: "user", text: "(earlier in this conversation)" });
  const out: MessageParam[] = merged.map((m) => ({ role: m.role, content: m.text }));
  const newest = out.at(-1) as MessageParam;
  if (files.length) newest.content = [...fileBlocks(files), { type: "text", text: newest.content as string }];
  return out;
}

/** The message's files as content blocks: text files as text, images as images, the rest by name. */
function fileBlocks(files: AgentFile[]): ContentBlockParam[] {
  const blocks: ContentBlockParam[] = [];
  const named: string[] = [];
  for (const f of files) {
    const what = `${f.name} (${f.mimetype}, ${f.size} bytes)`;
    if (f.text !== undefined) blocks.push({ type: "text", text: `Attached file ${what}:\n\n${f.text}` });
    else if (f.image) {
      blocks.push({ type: "text", text: `Attached image ${what}:` });
      blocks.push({ type: "image", source: { type: "base64", media_type: f.image.mediaType as "image/png", data: f.image.base64 } });
    } else named.push(what);
  }
  if (named.length) blocks.push({ type: "text", text: `Attached, but not readable here (only the name is known): ${named.join("; ")}` });
  return blocks;
}

/** The tool_result text: status, exit code, output (head and tail kept when long). */
export function describeOutcome(o: JobOutcome): string {
  const why: Record<JobOutcome["status"], string> = {
    succeeded: "succeeded",
    failed: "failed",
    denied: "denied: an approver refused to run it",
    expired: "expired: nobody approved it in time; it did not run",
    interrupted: "interrupted: the bot restarted while it ran; it was not re-run",
  };
  let out = o.output;
  if (out.length > MAX_RESULT_CHARS) {
    const head = out.slice(0, 5_000);
    const tail = out.slice(out.length - (MAX_RESULT_CHARS - 5_000));
    out = `${head}\n[... ${o.output.length - MAX_RESULT_CHARS} characters omitted ...]\n${tail}`;
  }
  const lines = [`status: ${why[o.status]}`];
  if (o.exitCode !== null) lines.push(`exit code: ${o.exitCode}`);
  lines.push(out ? `output:\n${out}` : "output: (none)");
  return lines.join("\n");
}

function parseState(state: unknown): AnthropicResumeState {
  const s = state as Partial<AnthropicResumeState> | null;
  if (
    s?.v !== 1 ||
    !Array.isArray(s.messages) ||
    typeof s.toolUseId !== "string" ||
    !Array.isArray(s.toolUseIds) ||
    !s.toolUseIds.includes(s.toolUseId)
  ) {
    throw new AgentError("anthropic: cannot continue: the stored conversation is missing or damaged");
  }
  return s as AnthropicResumeState;
}
