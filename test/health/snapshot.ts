// A full HealthSnapshot for tests, overridable field by field.
import type { HealthSnapshot } from "../../src/core/health-types.ts";

export function snapshot(over: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    status: "ok",
    uptime_s: 120,
    last_event_ago_s: 4,
    connected: true,
    reconnects: 2,
    paused: false,
    pending_approvals: 1,
    pending_exec: 0,
    outbox_pending: 3,
    outbox_failed: 1,
    relay_failures: 5,
    version: "0.1.0",
    instance: "host-a:4242",
    store: "sqlite",
    cluster_instances: 1,
    mode: "socket",
    connection_failures: 7,
    canary: "ok",
    workers: { outbox: { runs: 10, failures: 2, consecutive_failures: 1, last_error: "boom" }, expiry: { runs: 3, failures: 0, consecutive_failures: 0 } },
    events_received: 42,
    replies_sent: 40,
    ...over,
  };
}
