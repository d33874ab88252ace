// Builds the answering core (agent, outbox sender, approvals, pipeline) from the
// configuration: the part `run` and `replay` share.
import { AnthropicAgent } from "./agents/anthropic.ts";
import { CommandAgent } from "./agents/command.ts";
import { EchoAgent } from "./agents/echo.ts";
import type { Agent } from "./agents/types.ts";
import { type Config, secretsOf } from "./config.ts";
import { Approvals, CARD_KEY_PREFIX } from "./core/approvals.ts";
import type { Clock } from "./core/clock.ts";
import type { StatusSource } from "./core/commands.ts";
import type { Logger } from "./core/logger.ts";
import { OutboxSender } from "./core/outbox-sender.ts";
import { Pipeline } from "./core/pipeline.ts";
import { makeRedactor } from "./core/redact.ts";
import type { SlackPort } from "./core/slack-port.ts";
import { runCodeJob, runExecJob } from "./jobs/exec.ts";
import type { RelayClient } from "./relay/client.ts";
import type { Store } from "./store/index.ts";

/** Fixed limits (the tunable intervals are in config.tuning). */
export const INTERNAL = {
  cleanupEveryMs: 10 * 60 * 1000,
  outboxRetryMaxMs: 5 * 60 * 1000,
  outboxLeaseMs: 60_000,
  keepDoneMs: 7 * 24 * 60 * 60 * 1000,
  shutdownBudgetMs: 8000,
};

export interface CoreParts {
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
  owner: string;
  slack: SlackPort;
  relay: RelayClient | null;
  botUserId(): string | undefined;
  botId?(): string | undefined;
  status: StatusSource;
  onRevoked(reason: string): void;
  /** False in `replay`: approvals are recorded, the bot runs the jobs. */
  runsJobs?: boolean;
}

/** The answering core (agent, outbox sender, approvals, pipeline): shared by `run` and `replay`. */
export function buildCore(p: CoreParts) {
  const { config, store, clock, log, owner } = p;
  const agent = makeAgent(config, log);
  const outbox = new OutboxSender({
    store,
    slack: p.slack,
    clock,
    log,
    owner,
    retryInitialMs: config.tuning.outboxRetryInitialMs,
    retryMaxMs: INTERNAL.outboxRetryMaxMs,
    leaseMs: INTERNAL.outboxLeaseMs,
    onSent: (row, ts) => {
      if (row.event_key?.startsWith(CARD_KEY_PREFIX)) approvals.cardPosted(row.event_key.slice(CARD_KEY_PREFIX.length), ts);
    },
    onRevoked: p.onRevoked,
  });
  const kick = () => outbox.kick();
  const approvals = new Approvals({
    store,
    clock,
    log,
    approvers: config.approvers,
    approvalTtlMs: config.approvalTtlMs,
    codeCommandSet: !!config.codeCommand,
    agent,
    agentTimeoutMs: config.agentTimeoutMs,
    runJob: (a, signal, onSpawn) => {
      // Redacted before it leaves src/jobs: what a job prints is stored, posted and given to the agent.
      const job = { cwd: config.execCwd, timeoutMs: config.execTimeoutMs, signal, onSpawn, redact: makeRedactor(secretsOf(config)) };
      return a.kind === "exec" ? runExecJob({ ...job, command: a.text }) : runCodeJob({ ...job, codeCommand: config.codeCommand ?? "", task: a.text });
    },
    runsJobs: p.runsJobs,
    recordUsage: (u, latencyMs, eventKey) => store.usage.record({ ...u, latencyMs, eventKey }, clock.now()),
    kick,
  });
  const pipeline = new Pipeline({
    store,
    clock,
    log,
    agent,
    relay: p.relay,
    approvals,
    admins: config.admins,
    agentTimeoutMs: config.agentTimeoutMs,
    owner,
    botUserId: p.botUserId,
    botId: p.botId,
    slack: p.slack,
    status: p.status,
    kick,
  });
  return { agent, outbox, approvals, pipeline, kick };
}

function makeAgent(config: Config, log: Logger): Agent {
  switch (config.agent) {
    case "anthropic":
      return new AnthropicAgent({
        apiKey: config.anthropicApiKey ?? "",
        baseURL: config.anthropicBaseUrl,
        model: config.model,
        timeoutMs: config.agentTimeoutMs,
        log,
      });
    case "command":
      return new CommandAgent({ command: config.agentCommand ?? "", timeoutMs: config.agentTimeoutMs, cwd: config.execCwd });
    default:
      return new EchoAgent();
  }
}
