// Builds the answering core (agent, outbox sender, approvals, pipeline) from the
// configuration: the part `run` and `replay` share.
import { AnthropicAgent } from "./agents/anthropic.ts";
import { CommandAgent } from "./agents/command.ts";
import { EchoAgent } from "./agents/echo.ts";
import { threadContext } from "./agents/thread-context.ts";
import type { Agent } from "./agents/types.ts";
import type { Config } from "./config.ts";
import { Approvals, CARD_KEY_PREFIX } from "./core/approvals.ts";
import { readAttachments } from "./core/attachments.ts";
import { CardRouter } from "./core/card-routes.ts";
import type { Clock } from "./core/clock.ts";
import type { StatusSource } from "./core/commands.ts";
import { groupCommit } from "./core/group-commit.ts";
import type { Logger } from "./core/logger.ts";
import { JobProgress } from "./core/job-progress.ts";
import { LiveAnswer } from "./core/live-answer.ts";
import { OutboxSender, type Queued } from "./core/outbox-sender.ts";
import { type ContextSource, Pipeline } from "./core/pipeline.ts";
import { SignsOfLife } from "./core/sign-of-life.ts";
import type { SlackPort } from "./core/slack-port.ts";
import type { Store } from "./core/store.ts";
import { localJobs } from "./jobs/local.ts";
import type { RelayClient } from "./relay/client.ts";
import { SlackFileDownloads } from "./slack/file-download.ts";

/** Fixed limits (the tunable intervals are in config.tuning). */
export const INTERNAL = {
  cleanupEveryMs: 10 * 60 * 1000,
  outboxRetryMaxMs: 5 * 60 * 1000,
  outboxLeaseMs: 60_000,
  keepDoneMs: 7 * 24 * 60 * 60 * 1000,
  shutdownBudgetMs: 8000,
  /** A health figure the store does not give by then shows as store_unavailable (health's own probe waits 5 s). */
  healthReadMs: 2000,
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
  /** False in `replay`: a backlog answered from the CLI has nobody waiting for a sign of life. */
  showsSigns?: boolean;
  /** Takes the configured secrets out of text (bootstrap's redactor). */
  redact(text: string): string;
}

/** The answering core (agent, outbox sender, approvals, pipeline): shared by `run` and `replay`. */
export function buildCore(p: CoreParts) {
  const { config, store, clock, log, owner } = p;
  const agent = makeAgent(config, log);
  const commit = groupCommit(store);
  const signs = new SignsOfLife({ slack: p.slack, log, clock, afterMs: config.tuning.signAfterMs });
  const downloads = new SlackFileDownloads(config.slackBotToken, config.slackApiUrl);
  const cards = new CardRouter({ slack: p.slack, approvers: config.approvers, selfApproval: config.selfApproval, approvalChannel: config.approvalChannel, clock, log });
  const outbox = new OutboxSender({
    store,
    commit,
    slack: p.slack,
    clock,
    log,
    owner,
    retryInitialMs: config.tuning.outboxRetryInitialMs,
    retryMaxMs: INTERNAL.outboxRetryMaxMs,
    leaseMs: INTERNAL.outboxLeaseMs,
    onSent: async (row, ts) => {
      if (row.eventKey) signs.answered(row.eventKey);
      if (row.op === "post" && row.eventKey?.startsWith(CARD_KEY_PREFIX)) await approvals.cardPosted(row.eventKey.slice(CARD_KEY_PREFIX.length), row.channel, ts);
    },
    onRevoked: p.onRevoked,
  });
  const kick = (queued?: Queued) => outbox.kick(queued);
  const approvals = new Approvals({
    store,
    clock,
    log,
    approvers: config.approvers,
    selfApproval: config.selfApproval,
    approvalTtlMs: config.approvalTtlMs,
    codeCommandSet: !!config.codeCommand,
    agent,
    agentTimeoutMs: config.agentTimeoutMs,
    // Job output is redacted before it leaves src/jobs: what a job prints is stored, posted and given to the agent.
    jobs: localJobs({ cwd: config.execCwd, timeoutMs: config.execTimeoutMs, codeCommand: config.codeCommand, redact: p.redact }),
    runsJobs: p.runsJobs,
    owner,
    route: (origin, requestedBy) => cards.route(origin, requestedBy),
    progress: (target) =>
      new JobProgress({ slack: p.slack, clock, log, afterMs: config.tuning.jobProgressAfterMs, everyMs: config.tuning.jobProgressEveryMs }, target),
    recordUsage: (u, latencyMs, eventKey) => store.usage.record({ ...u, latencyMs, eventKey }, clock.now()),
    kick,
  });
  const pipeline = new Pipeline({
    store,
    commit,
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
    context: conversationContext(p, agent),
    readFiles: (files) => readAttachments(files, { downloads, images: agent.seesImages === true }),
    canPost: (channel) => cards.canPost(channel),
    status: p.status,
    signs: p.showsSigns === false ? undefined : signs,
    openLive: (target) =>
      LiveAnswer.open(
        {
          slack: p.slack,
          store,
          clock,
          log,
          intervalMs: config.tuning.streamIntervalMs,
          botUserId: p.botUserId,
          botId: p.botId,
          onVisible: (key) => signs.answered(key),
        },
        target,
      ),
    kick,
    claimInto: (t, queued) => outbox.claimInto(t, queued),
    redact: p.redact,
  });
  return { agent, outbox, approvals, pipeline, kick, commit };
}

/** The conversation so far: from the relay if there is one, else from the Slack thread. */
function conversationContext(p: CoreParts, agent: Agent): ContextSource {
  return async (m) => {
    if (p.relay) return p.relay.context({ channel: m.channel, thread_ts: m.threadTs, user: m.user, text: m.text });
    // The echo agent ignores context: don't spend Slack's rate limit on it.
    if (agent.kind === "echo") return [];
    return threadContext({
      slack: p.slack,
      channel: m.channel,
      // The message's own thread; a top-level mention has none yet.
      threadTs: m.kind === "mention" && m.threadTs === m.ts ? undefined : m.threadTs,
      currentTs: m.ts,
      botUserId: p.botUserId(),
      botId: p.botId?.(),
      onError: (e) => p.log.warn(`thread context unavailable: ${String(e)}`),
    });
  };
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
