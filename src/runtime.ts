// The composition root: opens the store, builds the core around it, connects to Slack
// (socket or http), serves health, starts the workers; and takes it all down in order.
import { hostname } from "node:os";
import { buildCore, INTERNAL } from "./assemble.ts";
import { type Base, bootstrap } from "./bootstrap.ts";
import { type Config, isLoopbackHost, secretsOf } from "./config.ts";
import { CatchupState, catchUp, RUN_BUDGET_MS, storeParticipation } from "./core/catchup.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import { ConnectionHistory } from "./core/connection-history.ts";
import { formatDuration } from "./core/duration.ts";
import type { HealthSnapshot } from "./core/health-types.ts";
import { Heartbeat } from "./core/heartbeat.ts";
import type { Logger } from "./core/logger.ts";
import { Presence } from "./core/presence.ts";
import { makeRedactor } from "./core/redact.ts";
import { Receiver } from "./core/receiver.ts";
import { StoreHealth } from "./core/store-health.ts";
import { SlackCallError } from "./core/slack-port.ts";
import type { Store } from "./core/store.ts";
import { Supervisor, errText } from "./core/supervisor.ts";
import { Workers } from "./core/workers.ts";
import { createEventsApp, createHealthApp, type RunningServer, startHealthServer } from "./health/app.ts";
import { judgeStatus, startingSnapshot } from "./health/status.ts";
import { startingPageView, statusPageView } from "./health/status-data.ts";
import { renderStatusPage } from "./health/status-page.ts";
import { BoltRouter } from "./slack/bolt-router.ts";
import { slackEventsHandler } from "./slack/http-events.ts";
import { type Envelope, SocketConnection } from "./slack/socket-connection.ts";
import { classifySlackError, WebPort } from "./slack/web-port.ts";
import { VERSION } from "./version.ts";

export interface RuntimeOptions {
  config: Config;
  clock?: Clock;
  /** Console threshold, CLAWDBOT_CONSOLE_LEVEL's numbers (the sandbox keeps it quiet). */
  consoleLevel?: number;
  /** Override for the logger (tests). */
  log?: Logger;
  /** Aborted by a stop signal that comes while start-up still waits for the database. */
  signal?: AbortSignal;
}


export interface Runtime {
  readonly store: Store;
  readonly log: Logger;
  readonly healthPort: number;
  readonly httpPort: number | null;
  snapshot(): Promise<HealthSnapshot>;
  stop(): Promise<void>;
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  // Uptime is an interval: measured on the monotonic clock.
  const startedAt = clock.mono();
  const stopHooks: (() => void)[] = [];

  // The ports are bound before anything else starts: a second clawdbot on this host (Task
  // Scheduler started one while the first still runs) stops here, before it touches Slack
  // or the store. Until the core is up they answer "starting".
  let current: (() => Promise<HealthSnapshot>) | null = null;
  const who = { instance: config.instanceId, store: config.databaseUrl ? ("postgres" as const) : ("sqlite" as const) };
  /** Why start-up waits for the database, while it does. */
  let waitingForStore: string | null = null;
  const view = () => {
    if (current) return current();
    const s = startingSnapshot(Math.floor((clock.mono() - startedAt) / 1000), config.mode, VERSION, who);
    return waitingForStore ? { ...s, status: "store_unavailable" as const, reason: waitingForStore } : s;
  };
  let currentPage: (() => Promise<string>) | null = null;
  const earlyRedact = makeRedactor(secretsOf(config));
  const page = async () => currentPage?.() ?? renderStatusPage(startingPageView(await view(), clock.now(), config.instanceId), earlyRedact);
  let onSlackEvent: ((req: Request) => Promise<Response>) | null = null;
  const servers: RunningServer[] = [];
  let base: Base;
  try {
    const healthApp = createHealthApp({ snapshot: view, loopbackOnly: isLoopbackHost(config.healthHost), statusPage: page });
    servers.push(startHealthServer(healthApp, config.healthHost, config.healthPort));
    if (config.mode === "http") {
      // 503 while starting: Slack retries, nothing is lost.
      const events = createEventsApp((req) => onSlackEvent?.(req) ?? Promise.resolve(new Response("starting\n", { status: 503 })));
      servers.push(startHealthServer(events, "0.0.0.0", config.httpPort, "CLAWDBOT_HTTP_PORT"));
    }
    base = await bootstrap(config, {
      clock,
      consoleLevel: opts.consoleLevel,
      log: opts.log,
      owner: config.instanceId,
      // An unreachable database is no reason to exit: it is waited for, health says so.
      waitForStore: {
        signal: opts.signal,
        onWaiting: (reason) => {
          waitingForStore = reason;
        },
        healthUrl: `http://${config.healthHost}:${servers[0]?.port}/health`,
      },
    });
    waitingForStore = null;
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  const { store, log, redact, owner, slack, relay } = base;
  const [health, http = null] = servers as [RunningServer, RunningServer?];

  const identity: { botUserId?: string; botId?: string } = {};
  let revokedReason: string | null = null;

  let supervisor: Supervisor<Envelope> | null = null;
  const revoke = (reason: string) => {
    if (revokedReason) return;
    revokedReason = reason;
    if (supervisor) supervisor.revoke(reason);
    else log.critical(`Slack access revoked (${reason}): fix the app's tokens and restart clawdbot`);
  };

  const { agent, outbox, approvals, pipeline, kick, commit } = buildCore({
    config,
    store,
    clock,
    log,
    owner,
    slack,
    relay,
    botUserId: () => identity.botUserId,
    botId: () => identity.botId,
    status: async () => statusLine(await snapshot()),
    onRevoked: revoke,
    redact,
  });

  // Whether the store can be written. When it works again after failing, what arrived
  // meanwhile is looked for: Slack's redeliveries gave up on what could not be recorded.
  const storeHealth = new StoreHealth({
    now: () => clock.mono(),
    settleMs: config.tuning.presenceIntervalMs,
    onRecovered: () => {
      log.info("the store works again: answering what waited, looking for messages that came meanwhile");
      workers.trigger("catchup");
      pipeline.recover().catch((err) => log.error(`answering events after the store came back failed: ${errText(err)}`));
      kick();
    },
  });

  // The instances sharing the store: a dead one's running jobs are reported, its events answered.
  const presence = new Presence({
    store,
    clock,
    log,
    id: owner,
    host: hostname(),
    timeoutMs: config.instanceTimeoutMs,
    exclusive: store.kind === "sqlite",
    takenOver: async () => {
      await approvals.interruptOrphans((row) => presence.jobPlace(row));
      kick();
      pipeline.recover().catch((err) => log.error(`answering the events of a dead instance failed: ${errText(err)}`));
    },
  });

  const heartbeat = new Heartbeat({
    clock,
    log,
    canaryTimeoutMs: config.canaryTimeoutMs,
    connected: () => (supervisor ? supervisor.connected : true),
    post: async (text) => (await slack.post({ channel: config.heartbeatChannel ?? "", text, outboxId: 0 })).ts,
    // One beat per interval for the cluster: the lease outlives two intervals, so its holder
    // keeps beating (a late tick does not hand it over); a dead holder's is freed by its takeover.
    leads: () => {
      const now = clock.now();
      return store.leases.acquire(HEARTBEAT_LEASE, owner, now, now + config.heartbeatIntervalMs * 2 + config.canaryTimeoutMs);
    },
    echoedElsewhere: async (ts) => (await store.settings.get(HEARTBEAT_ECHO)) === ts,
    text: async () => {
      const s = await snapshot();
      // In a cluster it says which instance beat (the one holding the heartbeat lease).
      const who = store.kind === "postgres" ? ` (${owner})` : "";
      return `:heartbeat: clawdbot ${VERSION}${who} up ${formatDuration(s.uptime_s)}; pending approvals ${s.pending_approvals}, outbox pending ${s.outbox_pending}, failed ${s.outbox_failed}`;
    },
    onDeaf: () => supervisor?.replace("heartbeat canary missed"),
  });

  const router = new BoltRouter({
    botToken: config.slackBotToken,
    apiUrl: config.slackApiUrl,
    callTimeoutMs: config.tuning.slackCallTimeoutMs,
    log,
    identity: () => identity,
    answer: (key, recorded) => pipeline.process(key, recorded),
  });
  const receiver = new Receiver({
    commit,
    clock,
    log,
    identity: () => identity,
    // Bolt routes it to its listener; if its middleware routed it nowhere, the pipeline
    // answers it directly: nothing recorded is dropped.
    process: (key, payload, recorded) =>
      void router.dispatch(payload, key, recorded).then((routed) => {
        if (!routed) void pipeline.process(key, recorded);
      }),
    // Recorded already leased to the pipeline: answering it needs no claim.
    lease: (now) => pipeline.lease(now),
    onTerminal: (reason) => revoke(reason),
    storeHealth,
    refuse: (responseUrl, text) => slack.respond(responseUrl, { text, response_type: "ephemeral" }),
    onCanary: (payload) => {
      heartbeat.echoed();
      // The instance that posted the beat may not be this one: tell it through the store.
      const ev = (payload.event ?? {}) as { channel?: string; ts?: string };
      if (store.kind === "postgres" && ev.ts && ev.channel === config.heartbeatChannel) {
        store.settings.set(HEARTBEAT_ECHO, ev.ts, clock.now()).catch((err) => log.warn(`could not note the heartbeat's echo: ${errText(err)}`));
      }
    },
    redact,
  });
  const deliver = (type: string, payload: Record<string, unknown>, ack: () => void): Promise<boolean> => {
    heartbeat.eventArrived();
    return receiver.handle(type, payload, ack);
  };

  const ensureIdentity = async () => {
    if (identity.botUserId) return;
    const me = await slack.authTest();
    identity.botUserId = me.userId;
    identity.botId = me.botId;
    log.info(`signed in to Slack as ${me.userId}${me.teamId ? ` in ${me.teamId}` : ""}`);
  };

  const workers = new Workers(clock, log);
  workers.add("cleanup", INTERNAL.cleanupEveryMs, () => {
    const before = clock.now() - INTERNAL.keepDoneMs;
    return store.tx(async (t) => {
      await t.events.purge(before);
      await t.outbox.purge(before);
      await t.approvals.purge(before);
      await t.usage.fold(before);
      await t.instances.purge(before);
    });
  });
  // Expired cards are closed; approved jobs nobody started (a `replay` recorded the click,
  // or the bot was paused) are started.
  workers.add(
    "expiry",
    Math.min(config.tuning.expiryCheckMs, config.approvalTtlMs),
    async () => {
      await approvals.expireDue();
      await approvals.startApproved();
    },
    { runNow: true },
  );
  workers.add("outbox", 30_000, kick, { runNow: true }); // a safety net: the sender also wakes itself
  const caughtUp = new CatchupState();
  workers.add("catchup", 24 * 60 * 60 * 1000, async () => {
    if (!identity.botUserId) return;
    const started = clock.now();
    // One instance at a time: what it reads (every conversation the cluster took part in) is
    // the others' too, and Slack's history calls are rate limited per workspace.
    if (!(await store.leases.acquire(CATCHUP_LEASE, owner, started, started + RUN_BUDGET_MS + 60_000))) {
      log.debug("catch-up: another instance is catching up");
      return;
    }
    let left = 0;
    try {
      ({ left } = await catchUp({
        slack,
        ...storeParticipation(store),
        state: caughtUp,
        log,
        now: () => clock.now(),
        mono: () => clock.mono(),
        botUserId: () => identity.botUserId,
        // Not `deliver`: what catch-up finds says nothing about whether the socket hears events.
        deliver: (type, payload) => receiver.handle(type, payload, () => {}),
      }));
    } finally {
      await store.leases.release(CATCHUP_LEASE, owner).catch(() => {});
    }
    // A run's budget spent: the rest once Slack's rate limit window has passed.
    if (left) workers.trigger("catchup", config.tuning.catchupNextRunMs);
  });
  if (config.heartbeatChannel) workers.add("heartbeat", config.heartbeatIntervalMs, () => heartbeat.beat());

  // Work left by the previous process: replies to send, events to answer, jobs to report.
  await presence.start();
  // The renewal is a write every few seconds: it also tells whether the store can be written.
  workers.add("presence", config.tuning.presenceIntervalMs, async () => {
    try {
      await presence.tick();
    } catch (err) {
      storeHealth.failed(err);
      throw err;
    }
    storeHealth.wrote();
  });
  await approvals.recover((row) => presence.jobPlace(row));
  kick();

  const history = new ConnectionHistory(clock);
  if (config.mode === "socket") {
    const appPort = new WebPort(config.slackAppToken, config.slackApiUrl, { timeoutMs: config.tuning.slackCallTimeoutMs });
    supervisor = new Supervisor<Envelope>({
      clock,
      log,
      reconnectInitialMs: config.reconnectInitialMs,
      reconnectMaxMs: config.reconnectMaxMs,
      livenessTimeoutMs: config.livenessTimeoutMs,
      history,
      openUrl: async () => {
        await ensureIdentity();
        try {
          const r = await appPort.client.apps.connections.open();
          if (!r.url) throw new Error("apps.connections.open returned no url");
          return r.url;
        } catch (err) {
          throw err instanceof SlackCallError ? err : new SlackCallError(classifySlackError(err));
        }
      },
      connect: (url, handlers) => new SocketConnection(url, handlers, clock),
      // Each (re)connection: look for what arrived while we were away; a refresh that left no gap missed nothing.
      onConnected: ({ gapless }) => {
        if (gapless) log.debug("refresh handover left no gap: no catch-up");
        else workers.trigger("catchup");
      },
      // In a cluster every instance holds a connection of the same app.
      sharedApp: store.kind === "postgres",
      onEnvelope: (env, ack) => {
        deliver(env.type, env.payload, () => ack()).catch((err) => log.error(`envelope handler failed: ${errText(err)}`));
      },
      // Every Slack failure reaches the supervisor classified (openUrl above, authTest in the port).
      terminalReason: (err) => (err instanceof SlackCallError && err.failure.kind === "revoked" ? err.failure.message : null),
    });
    supervisor.start();
  } else {
    workers.add(
      "identity",
      Math.max(config.reconnectInitialMs, 1000),
      async () => {
        if (identity.botUserId || revokedReason) return;
        try {
          await ensureIdentity();
          workers.trigger("catchup");
        } catch (err) {
          if (err instanceof SlackCallError && err.failure.kind === "revoked") return revoke(err.failure.message);
          throw err;
        }
      },
      { runNow: true },
    );
    onSlackEvent = slackEventsHandler({
      signingSecret: config.slackSigningSecret,
      log,
      now: () => clock.now(),
      deliver,
    });
    log.info(`http mode: Slack events on port ${http?.port} at /slack/events`);
  }

  // Unanswered events of the previous process (a crash between ack and answer).
  pipeline.recover().catch((err) => log.error(`answering events left by the last stop failed: ${errText(err)}`));

  // Bun exits on an unhandled rejection; "never exits because Slack, the relay or the agent
  // is unreachable" means a stray one is logged, not fatal. Removed again at stop.
  const onStray = (err: unknown) => log.error(`unhandled rejection (kept running): ${errText(err)}`);
  process.on("unhandledRejection", onStray);
  stopHooks.push(() => process.off("unhandledRejection", onStray));

  async function snapshot(): Promise<HealthSnapshot> {
    // Each figure within a bound: a hung database shows as store_unavailable, never a hung /health.
    let readProblem: string | null = null;
    const figure = <T>(read: Promise<T>, fallback: T): Promise<T> =>
      within(read, INTERNAL.healthReadMs).catch((err) => {
        readProblem = errText(err);
        storeHealth.failed(err);
        return fallback;
      });
    const [paused, counts, byStatus] = await Promise.all([
      figure(store.settings.isPaused(), false),
      figure(store.outbox.counts(), { pending: 0, failed: 0, sent: 0, suppressed: 0 }),
      figure(store.approvals.countByStatus(), {} as Record<string, number>),
    ]);
    const now = clock.mono();
    const lastEventAt = receiver.lastEventAt ?? startedAt;
    const connected = supervisor ? supervisor.connected : !!identity.botUserId && !revokedReason;
    const { status, reason } = judgeStatus({
      mono: now,
      staleAfterMs: config.staleAfterMs,
      revokedReason: revokedReason ?? supervisor?.revokedReason ?? null,
      socket: supervisor,
      identityKnown: !!identity.botUserId,
      canary: heartbeat.state,
      failingWorkers: workers.failing(),
      storeProblem: storeHealth.unavailable ?? readProblem,
    });
    return {
      status,
      uptime_s: Math.floor((now - startedAt) / 1000),
      last_event_ago_s: Math.floor((now - lastEventAt) / 1000),
      connected,
      reconnects: supervisor?.reconnects ?? 0,
      paused,
      pending_approvals: byStatus.pending ?? 0,
      pending_exec: (byStatus.approved ?? 0) + (byStatus.running ?? 0),
      outbox_pending: counts.pending,
      outbox_failed: counts.failed,
      relay_failures: relay?.failures ?? 0,
      version: VERSION,
      ...who,
      cluster_instances: presence.live,
      mode: config.mode,
      reason: reason ? redact(reason) : undefined,
      connection_failures: supervisor?.failuresTotal ?? 0,
      canary: config.heartbeatChannel ? heartbeat.state : "off",
      workers: workers.stats(),
      events_received: receiver.received,
      replies_sent: outbox.sent,
    };
  }

  current = snapshot;
  currentPage = async () =>
    renderStatusPage(
      await statusPageView({ clock, store, instance: owner, snapshot, connection: supervisor && { supervisor, history } }),
      redact,
    );
  log.info(`clawdbot ${VERSION} started (${config.mode} mode, agent ${agent.kind}); health on http://${config.healthHost}:${health.port}/health`);

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      log.info("shutting down");
      const deadline = clock.mono() + INTERNAL.shutdownBudgetMs;
      const left = () => Math.max(100, deadline - clock.mono());
      for (const h of stopHooks) h();
      // Sockets closed first: no new work arrives while the rest drains.
      await supervisor?.stop();
      await workers.stop(Math.min(1000, left() / 4));
      heartbeat.stop();
      await http?.stop();
      // In-flight answers finish or stay `received` (answered after the next start).
      await pipeline.stop(left() / 2, { finishReceived: true });
      await approvals.stop(Math.min(1000, left() / 4));
      await outbox.stop(left() / 2);
      await relay?.flush(Math.min(1000, left()));
      // The others (or the next start) take over what is left at once.
      await presence.stop().catch((err) => log.warn(`could not record this instance's stop: ${errText(err)}`));
      await health.stop();
      log.info("stopped");
      await store.close();
    })();
    return stopping;
  };

  return {
    store,
    log,
    healthPort: health.port,
    httpPort: http?.port ?? null,
    snapshot,
    stop,
  };
}

/** `p`, or a rejection after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the store did not answer within ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err) => {
        clearTimeout(t);
        reject(err);
      },
    );
  });
}

/** The cluster's named leases. */
const CATCHUP_LEASE = "catchup";
const HEARTBEAT_LEASE = "heartbeat";
/** Where the instance that received the heartbeat's echo notes its ts. */
const HEARTBEAT_ECHO = "heartbeat.echo";

export function statusLine(s: HealthSnapshot): string {
  return [
    `*Status:* ${s.status}${s.reason ? ` (${s.reason})` : ""}${s.paused ? " — *paused*" : ""}`,
    `connected: ${s.connected ? "yes" : "no"}, reconnects: ${s.reconnects}, up ${formatDuration(s.uptime_s)}`,
    `approvals pending: ${s.pending_approvals}, jobs running: ${s.pending_exec}`,
    `outbox pending: ${s.outbox_pending}, failed: ${s.outbox_failed}, relay failures: ${s.relay_failures}`,
    `version ${s.version}`,
  ].join("\n");
}
