// What the pipeline asks of an agent, and what an agent answers. Agents are edges
// (processes, HTTP): the pipeline only sees this interface.
import type { AgentKind } from "../config.ts";

export interface ContextMessage {
  role: "user" | "assistant";
  text: string;
}

/** A file attached to the message (contract, Agent: `files`). */
export interface AgentFile {
  name: string;
  mimetype: string;
  /** Bytes, as Slack reports them. */
  size: number;
  /** The content of a text file up to 100 kB. */
  text?: string;
  /** An image's content, for an agent that sees images (Agent.seesImages). */
  image?: { mediaType: string; base64: string };
}

export interface AgentRequest {
  /** Already unescaped: what the user typed. */
  text: string;
  user: string;
  channel: string;
  threadTs: string | undefined;
  context: ContextMessage[];
  /** The message's attachments; none when absent. */
  files?: AgentFile[];
}

/** A job the agent asks for; it becomes an approval card, never runs by itself. */
export interface JobRequest {
  kind: "exec" | "code";
  /** The shell command (exec) or the task (code), verbatim. */
  text: string;
  reason?: string;
  /**
   * JSON-serialisable state the agent needs to continue once the job has finished
   * (the Anthropic agent keeps its conversation and tool_use id here). Stored with the
   * approval so it survives restarts.
   */
  resume?: unknown;
}

export interface Usage {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
}

export interface AgentReply {
  reply: string;
  jobs: JobRequest[];
  usage?: Usage;
}

export interface JobOutcome {
  status: "succeeded" | "failed" | "denied" | "expired" | "interrupted";
  exitCode: number | null;
  output: string;
}

/**
 * Text of the reply as the agent produces it, piece by piece: what the user sees grow. Only
 * a preview: the reply `answer` resolves to is the answer.
 */
export type OnDelta = (text: string) => void;

export interface Agent {
  readonly kind: AgentKind;
  /** Whether images reach it as images (else only their names): they are downloaded only then. */
  readonly seesImages?: boolean;
  answer(req: AgentRequest, signal: AbortSignal, onDelta?: OnDelta): Promise<AgentReply>;
  /** Feeds a finished job back for a final answer; agents without memory leave it out. */
  resume?(state: unknown, outcome: JobOutcome, signal: AbortSignal): Promise<AgentReply>;
}

export class AgentError extends Error {
  readonly code = "agent";
}
