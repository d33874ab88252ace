// What the status page reads from the store, bounded: a few indexed queries per load with a
// limit on each, nothing on the bot's hot path, and an answer within a deadline even when the
// store is down or locked (the page then says so instead of hanging).
import type { Clock } from "../core/clock.ts";
import type { ConnectionHistory } from "../core/connection-history.ts";
import type { HealthSnapshot } from "../core/health-types.ts";
import type { Store } from "../core/store.ts";
import { errText, type SupervisorState } from "../core/supervisor.ts";
import type { StatusPageData, StatusPageView } from "./status-page.ts";

export const PAGE_LIMITS = {
  approvals: 20,
  failedOutbox: 20,
  problems: 30,
  /** Warnings are looked for among this many newest log lines: the scan stays small however big the log. */
  logWindow: 5000,
  history: 20,
} as const;

/** A loaded page must not wait long: past this the store counts as unavailable for it. */
export const PAGE_READ_TIMEOUT_MS = 2000;

const PROBLEM_LEVELS = ["warn", "error", "critical"];

export async function readStatusPageData(store: Store, clock: Clock, timeoutMs = PAGE_READ_TIMEOUT_MS): Promise<StatusPageData | { unavailable: string }> {
  const reads = (async (): Promise<StatusPageData> => {
    const [approvals, failedOutbox, newest] = await Promise.all([
      store.approvals.withStatus("pending", PAGE_LIMITS.approvals),
      store.outbox.failed(PAGE_LIMITS.failedOutbox),
      store.logs.tail(1),
    ]);
    const lastId = newest[0]?.id ?? 0;
    const problems = await store.logs.select({
      afterId: lastId - PAGE_LIMITS.logWindow,
      levels: PROBLEM_LEVELS,
      limit: PAGE_LIMITS.problems,
      newestFirst: true,
    });
    return { approvals, failedOutbox, problems };
  })();
  let timer: ReturnType<Clock["setTimeout"]> | undefined;
  const late = new Promise<{ unavailable: string }>((resolve) => {
    timer = clock.setTimeout(() => resolve({ unavailable: `the store ${store.location} did not answer within ${timeoutMs / 1000} s` }), timeoutMs);
  });
  try {
    return await Promise.race([reads.catch((err) => ({ unavailable: `the store ${store.location} cannot be read: ${errText(err)}` })), late]);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}

export interface PageSources {
  clock: Clock;
  store: Store;
  instance: string;
  snapshot: () => Promise<HealthSnapshot>;
  /** Socket mode's supervisor and the history it feeds; null in http mode. */
  connection: { supervisor: { state: SupervisorState; nextAttemptAt: number | null }; history: ConnectionHistory } | null;
}

export async function statusPageView(p: PageSources): Promise<StatusPageView> {
  const [snapshot, data] = await Promise.all([p.snapshot(), readStatusPageData(p.store, p.clock)]);
  const c = p.connection;
  return {
    now: p.clock.now(),
    snapshot,
    instance: p.instance,
    store: { kind: p.store.kind, location: p.store.location },
    connection: c && {
      state: c.supervisor.state,
      nextAttemptAt: c.supervisor.nextAttemptAt,
      downSince: c.history.downSince,
      history: c.history.recent(PAGE_LIMITS.history),
    },
    data,
  };
}

/** Before the store is open: what health knows, and that the rest is coming. */
export function startingPageView(snapshot: HealthSnapshot, now: number, instance: string): StatusPageView {
  return { now, snapshot, instance, store: null, connection: null, data: { unavailable: "not open yet: clawdbot is starting" } };
}
