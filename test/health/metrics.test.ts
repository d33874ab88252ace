import { describe, expect, test } from "bun:test";
import { createHealthApp } from "../../src/health/app.ts";
import { renderMetrics } from "../../src/health/metrics.ts";
import { snapshot } from "./snapshot.ts";

/** name{labels} -> value, ignoring comments. */
function samples(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

describe("renderMetrics", () => {
  const text = renderMetrics(snapshot());
  const s = samples(text);

  test("every line is a HELP, TYPE or a well-formed sample", () => {
    expect(text.endsWith("\n")).toBe(true);
    for (const line of text.trimEnd().split("\n")) {
      expect(line).toMatch(/^(# HELP [a-z_]+ .+|# TYPE [a-z_]+ (gauge|counter)|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?[0-9.e+]+|NaN))$/);
    }
  });

  test("each family has HELP and TYPE before its samples", () => {
    const names = [...s.keys()].map((k) => k.replace(/\{.*$/, ""));
    for (const name of new Set(names)) {
      const help = text.indexOf(`# HELP ${name} `);
      const type = text.indexOf(`# TYPE ${name} `);
      const first = text.search(new RegExp(`^${name}[{ ]`, "m"));
      expect(help).toBeGreaterThanOrEqual(0);
      expect(type).toBeGreaterThan(help);
      expect(first).toBeGreaterThan(type);
    }
    expect(text).toContain("# TYPE clawdbot_reconnects_total counter");
    expect(text).toContain("# TYPE clawdbot_outbox_pending gauge");
  });

  test("the figures of the snapshot", () => {
    expect(s.get("clawdbot_up")).toBe("1");
    expect(s.get("clawdbot_connected")).toBe("1");
    expect(s.get("clawdbot_reconnects_total")).toBe("2");
    expect(s.get("clawdbot_last_event_age_seconds")).toBe("4");
    expect(s.get("clawdbot_uptime_seconds")).toBe("120");
    expect(s.get("clawdbot_paused")).toBe("0");
    expect(s.get("clawdbot_pending_approvals")).toBe("1");
    expect(s.get("clawdbot_pending_exec")).toBe("0");
    expect(s.get("clawdbot_outbox_pending")).toBe("3");
    expect(s.get("clawdbot_outbox_failed")).toBe("1");
    expect(s.get("clawdbot_relay_failures_total")).toBe("5");
    expect(s.get("clawdbot_connection_failures_total")).toBe("7");
    expect(s.get("clawdbot_events_received_total")).toBe("42");
    expect(s.get("clawdbot_replies_sent_total")).toBe("40");
    expect(s.get('clawdbot_worker_failures_total{worker="outbox"}')).toBe("2");
    expect(s.get('clawdbot_worker_consecutive_failures{worker="outbox"}')).toBe("1");
    expect(s.get('clawdbot_worker_consecutive_failures{worker="expiry"}')).toBe("0");
    expect(s.get('clawdbot_info{version="0.1.0",mode="socket",instance="host-a:4242",store="sqlite"}')).toBe("1");
    expect(s.get("clawdbot_cluster_instances")).toBe("1");
  });

  test("status is one-hot", () => {
    const st = samples(renderMetrics(snapshot({ status: "stale", connected: false, paused: true, last_event_ago_s: null })));
    expect(st.get('clawdbot_status{status="stale"}')).toBe("1");
    for (const other of ["ok", "starting", "disconnected", "store_unavailable", "revoked"]) expect(st.get(`clawdbot_status{status="${other}"}`)).toBe("0");
    expect(st.get("clawdbot_connected")).toBe("0");
    expect(st.get("clawdbot_paused")).toBe("1");
    expect(st.get("clawdbot_last_event_age_seconds")).toBe("NaN");
  });

  test("label values are escaped", () => {
    const t = renderMetrics(snapshot({ workers: { 'we"ird\\name': { runs: 1, failures: 1, consecutive_failures: 1 } } }));
    expect(t).toContain('clawdbot_worker_failures_total{worker="we\\"ird\\\\name"} 1');
  });

  test("no reason text (which could carry anything) leaks into metrics", () => {
    expect(renderMetrics(snapshot({ reason: "xoxb-secret" }))).not.toContain("xoxb");
  });
});

describe("GET /metrics", () => {
  test("Prometheus text content type, 200 even when not ok", async () => {
    const app = createHealthApp({ snapshot: () => snapshot({ status: "revoked" }) });
    const res = await app.handle(new Request("http://localhost/metrics"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    const body = await res.text();
    expect(body).toContain('clawdbot_status{status="revoked"} 1');
    expect(body).toContain("# HELP clawdbot_up ");
  });
});
