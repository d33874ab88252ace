// The health answer of the contract (GET /health), as the runtime assembles it.
export type HealthStatus = "ok" | "starting" | "disconnected" | "stale" | "store_unavailable" | "revoked";

export interface HealthSnapshot {
  status: HealthStatus;
  uptime_s: number;
  last_event_ago_s: number | null;
  connected: boolean;
  reconnects: number;
  paused: boolean;
  pending_approvals: number;
  pending_exec: number;
  outbox_pending: number;
  outbox_failed: number;
  relay_failures: number;
  version: string;
  /** This process's CLAWDBOT_INSTANCE_ID. */
  instance: string;
  store: "sqlite" | "postgres";
  /** Live instances sharing the store, this one included. */
  cluster_instances: number;
  /** Beyond the contract: why the status is what it is, and what needs a look. */
  mode: "socket" | "http";
  reason?: string;
  connection_failures: number;
  canary: "off" | "waiting" | "ok" | "missed";
  workers: Record<string, { runs: number; failures: number; consecutive_failures: number; last_error?: string }>;
  events_received: number;
  replies_sent: number;
}
