// What health reports, decided from the connection's state. Pure, so every case of the
// contract's Health section has a unit test. A quiet workspace is not an outage: `stale`
// needs silence on the socket itself (no envelope, ping or pong), or a missed canary.
import { formatDuration } from "../core/duration.ts";
import type { HealthSnapshot, HealthStatus } from "../core/health-types.ts";
import type { CanaryState } from "../core/heartbeat.ts";

export interface StatusInputs {
  /** clock.mono(), the reading lastActivityAt is in: staleness is an interval, not a date. */
  mono: number;
  staleAfterMs: number;
  revokedReason: string | null;
  /** Socket mode: the supervisor's view; null in http mode. */
  socket: { connected: boolean; connectedOnce: boolean; failuresTotal: number; lastError: string | null; lastActivityAt: number | null } | null;
  /** http mode: we know who we are (auth.test answered). */
  identityKnown: boolean;
  canary: CanaryState;
  failingWorkers: string[];
  /** Why the store cannot be written (or read), if it cannot. */
  storeProblem?: string | null;
}

export function judgeStatus(i: StatusInputs): { status: HealthStatus; reason?: string } {
  if (i.revokedReason) return { status: "revoked", reason: `Slack access revoked: ${i.revokedReason}` };
  // Nothing can be recorded: events are not acked (Slack redelivers), answers wait.
  if (i.storeProblem) return { status: "store_unavailable", reason: `the store cannot be used: ${i.storeProblem}` };
  const s = i.socket;
  if (s && !s.connected) {
    return { status: s.connectedOnce || s.failuresTotal > 0 ? "disconnected" : "starting", reason: s.lastError ?? undefined };
  }
  if (!s && !i.identityKnown) return { status: "starting", reason: "waiting for Slack's auth.test" };
  if (i.canary === "missed") return { status: "stale", reason: "heartbeat canary did not come back" };
  if (s && s.lastActivityAt !== null && i.mono - s.lastActivityAt > i.staleAfterMs) {
    return { status: "stale", reason: `nothing received from Slack for ${formatDuration(Math.round((i.mono - s.lastActivityAt) / 1000))}` };
  }
  // Failing workers do not make the bot unhealthy (it still answers), but they are named.
  return i.failingWorkers.length ? { status: "ok", reason: `workers failing: ${i.failingWorkers.join(", ")}` } : { status: "ok" };
}

/** What health answers in the moments before the core is up. */
export function startingSnapshot(
  uptimeS: number,
  mode: "socket" | "http",
  version: string,
  who: Pick<HealthSnapshot, "instance" | "store">,
): HealthSnapshot {
  return {
    ...who,
    cluster_instances: 0,
    status: "starting",
    uptime_s: uptimeS,
    last_event_ago_s: uptimeS,
    connected: false,
    reconnects: 0,
    paused: false,
    pending_approvals: 0,
    pending_exec: 0,
    outbox_pending: 0,
    outbox_failed: 0,
    relay_failures: 0,
    version,
    mode,
    reason: "starting up",
    connection_failures: 0,
    canary: "off",
    workers: {},
    events_received: 0,
    replies_sent: 0,
  };
}
