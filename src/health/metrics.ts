// The health snapshot in Prometheus text exposition format (version 0.0.4).
// Pure: the same figures as GET /health, nothing read from anywhere else.
import type { HealthSnapshot, HealthStatus } from "../core/health-types.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const STATUSES: HealthStatus[] = ["ok", "starting", "disconnected", "stale", "store_unavailable", "revoked"];
const CANARY: HealthSnapshot["canary"][] = ["off", "waiting", "ok", "missed"];

type Sample = { labels?: Record<string, string>; value: number };

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function family(name: string, type: "gauge" | "counter", help: string, samples: Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const s of samples) {
    const labels = s.labels
      ? "{" + Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",") + "}"
      : "";
    lines.push(`${name}${labels} ${formatValue(s.value)}`);
  }
  return lines.join("\n");
}

const one = (value: number | boolean): Sample[] => [{ value: typeof value === "boolean" ? Number(value) : value }];

export function renderMetrics(s: HealthSnapshot): string {
  const workers = Object.entries(s.workers).sort(([a], [b]) => a.localeCompare(b));
  const perWorker = (pick: (w: HealthSnapshot["workers"][string]) => number): Sample[] =>
    workers.map(([worker, w]) => ({ labels: { worker }, value: pick(w) }));

  const families = [
    family("clawdbot_up", "gauge", "1 while the process answers.", one(1)),
    family("clawdbot_info", "gauge", "Build, mode, instance and store of the running bot.", [
      { labels: { version: s.version, mode: s.mode, instance: s.instance, store: s.store }, value: 1 },
    ]),
    family("clawdbot_cluster_instances", "gauge", "Live instances sharing the store, this one included.", one(s.cluster_instances)),
    family("clawdbot_connected", "gauge", "1 if connected to Slack.", one(s.connected)),
    family(
      "clawdbot_status",
      "gauge",
      "Health status, one-hot.",
      STATUSES.map((status) => ({ labels: { status }, value: Number(s.status === status) })),
    ),
    family(
      "clawdbot_canary",
      "gauge",
      "Heartbeat canary state, one-hot.",
      CANARY.map((state) => ({ labels: { state }, value: Number(s.canary === state) })),
    ),
    family("clawdbot_reconnects_total", "counter", "Slack reconnections since start.", one(s.reconnects)),
    family(
      "clawdbot_last_event_age_seconds",
      "gauge",
      "Seconds since anything was last received from Slack (NaN if nothing yet).",
      one(s.last_event_ago_s ?? NaN),
    ),
    family("clawdbot_uptime_seconds", "gauge", "Seconds since the process started.", one(s.uptime_s)),
    family("clawdbot_paused", "gauge", "1 while the kill switch is on.", one(s.paused)),
    family("clawdbot_pending_approvals", "gauge", "Approval cards waiting for a decision.", one(s.pending_approvals)),
    family("clawdbot_pending_exec", "gauge", "Approved jobs not yet finished.", one(s.pending_exec)),
    family("clawdbot_outbox_pending", "gauge", "Replies not yet delivered.", one(s.outbox_pending)),
    family("clawdbot_outbox_failed", "gauge", "Replies that failed permanently (see clawdbot replay).", one(s.outbox_failed)),
    family("clawdbot_relay_failures_total", "counter", "Relay calls that failed after retries.", one(s.relay_failures)),
    family("clawdbot_connection_failures_total", "counter", "Failed Slack connection attempts.", one(s.connection_failures)),
    family("clawdbot_events_received_total", "counter", "Slack events received.", one(s.events_received)),
    family("clawdbot_replies_sent_total", "counter", "Replies delivered to Slack.", one(s.replies_sent)),
    family("clawdbot_worker_runs_total", "counter", "Runs of each background worker.", perWorker((w) => w.runs)),
    family("clawdbot_worker_failures_total", "counter", "Failed runs of each background worker.", perWorker((w) => w.failures)),
    family(
      "clawdbot_worker_consecutive_failures",
      "gauge",
      "Failed runs in a row of each background worker (0 when healthy).",
      perWorker((w) => w.consecutive_failures),
    ),
  ];
  return families.join("\n") + "\n";
}
