// `clawdbot health`: one probe, one line, an exit code a scheduler can act on.
// Runs every few minutes under cron / Task Scheduler, so it imports nothing heavy
// (no Elysia, no Slack, no SQLite) and reads only the two settings it needs.
import { defineCommand } from "citty";
import type { HealthSnapshot, HealthStatus } from "../core/health-types.ts";
import { type Env, gatherEnv } from "../config.ts";
import { CliExit } from "./exit.ts";

export const HEALTH_TIMEOUT_MS = 5000;

const STATUSES: readonly HealthStatus[] = ["ok", "starting", "disconnected", "stale", "store_unavailable", "revoked"];

export interface ProbeResult {
  /** 0 ok; 1 healing itself (starting, disconnected, stale, store_unavailable); 2 a restart or a person is needed. */
  exitCode: 0 | 1 | 2;
  line: string;
  /** What --json prints: the health answer itself, or a stand-in with the failure. */
  json: Record<string, unknown>;
}

/** The URL the bot's health server listens on, from CLAWDBOT_HEALTH_HOST/PORT. */
export function defaultHealthUrl(env: Env): { url: string } | { error: string } {
  const rawPort = env.CLAWDBOT_HEALTH_PORT?.trim() || "8093";
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return { error: `CLAWDBOT_HEALTH_PORT "${rawPort}" is not a TCP port; set it to the port clawdbot run uses (default 8093)` };
  }
  let host = env.CLAWDBOT_HEALTH_HOST?.trim() || "127.0.0.1";
  // A wildcard bind is reached through loopback.
  if (host === "0.0.0.0") host = "127.0.0.1";
  if (host === "::" || host === "[::]") host = "::1";
  if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
  return { url: `http://${host}:${port}/health` };
}

function oneLine(s: string, max = 300): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

function secs(v: unknown): string {
  return typeof v === "number" && Number.isFinite(v) ? `${Math.round(v)}s` : "?";
}

function num(v: unknown): string {
  return typeof v === "number" || typeof v === "boolean" ? String(v) : "?";
}

function details(h: Partial<HealthSnapshot>): string {
  const lastEvent = h.last_event_ago_s === null ? "never" : `${secs(h.last_event_ago_s)} ago`;
  return [
    `uptime=${secs(h.uptime_s)}`,
    `last_event=${lastEvent}`,
    `connected=${num(h.connected)}`,
    `reconnects=${num(h.reconnects)}`,
    `paused=${num(h.paused)}`,
    `pending_approvals=${num(h.pending_approvals)}`,
    `outbox_pending=${num(h.outbox_pending)}`,
    `outbox_failed=${num(h.outbox_failed)}`,
    `relay_failures=${num(h.relay_failures)}`,
    `version=${typeof h.version === "string" ? oneLine(h.version, 40) : "?"}`,
  ].join(" ");
}

function isHealthAnswer(v: unknown): v is Partial<HealthSnapshot> & { status: HealthStatus } {
  return typeof v === "object" && v !== null && STATUSES.includes((v as { status?: unknown }).status as HealthStatus);
}

/** Interprets a health answer: the status decides, the HTTP code (200/503) only carries it. */
export function judge(h: Partial<HealthSnapshot> & { status: HealthStatus }): ProbeResult {
  const json = h as Record<string, unknown>;
  const reason = typeof h.reason === "string" && h.reason ? ` (${oneLine(h.reason)})` : "";
  if (h.status === "ok") return { exitCode: 0, line: `OK status=ok ${details(h)}`, json };
  if (h.status === "revoked") return { exitCode: 2, line: `CRIT: revoked${reason}; new tokens and a restart are needed ${details(h)}`, json };
  return { exitCode: 1, line: `WARN: ${h.status}${reason} ${details(h)}`, json };
}

function failure(status: string, url: string, error: string, line: string, extra: Record<string, unknown> = {}): ProbeResult {
  return { exitCode: 2, line, json: { status, url, error, ...extra } };
}

export async function probeHealth(url: string, timeoutMs = HEALTH_TIMEOUT_MS): Promise<ProbeResult> {
  try {
    new URL(url);
  } catch {
    return failure("unreachable", url, "not a valid URL", `CRIT: unreachable: ${url} (not a valid URL)`);
  }
  const timeoutText = `timeout after ${timeoutMs / 1000} s`;
  let res: Response;
  let text: string;
  try {
    // The signal also bounds reading the body: a server that sends headers and stalls is a timeout.
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" }, redirect: "manual" });
    text = await res.text();
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    if (e.name === "TimeoutError" || e.name === "AbortError") {
      return failure("timeout", url, timeoutText, `CRIT: ${timeoutText}: ${url}`);
    }
    const why = oneLine(e.code ?? e.message ?? String(err), 120);
    return failure("unreachable", url, why, `CRIT: unreachable: ${url} (${why})`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  // 503 with a health body is the bot saying "not ok"; anything else is some other server.
  if ((res.status === 200 || res.status === 503) && isHealthAnswer(body)) return judge(body);
  const why = `HTTP ${res.status} ${oneLine(res.headers.get("content-type") ?? "no content-type", 60)}`;
  return failure("invalid", url, "not a health answer", `CRIT: not a health answer from ${url} (${why})`, { http_status: res.status });
}

export default defineCommand({
  meta: { name: "health", description: "Probe the running bot's health endpoint and print one line (OK / WARN / CRIT)." },
  args: {
    url: { type: "string", description: "health URL (default http://127.0.0.1:$CLAWDBOT_HEALTH_PORT/health)" },
    json: { type: "boolean", description: "print the JSON answer instead of the line", default: false },
  },
  async run({ args }) {
    let url = args.url;
    if (!url) {
      let env: Env = process.env;
      try {
        env = gatherEnv(process.env); // also reads clawdbot.env beside the executable
      } catch {
        // an unreadable clawdbot.env: the process environment alone still names the port
      }
      const d = defaultHealthUrl(env);
      if ("error" in d) {
        console.log(args.json ? JSON.stringify({ status: "invalid", error: d.error }) : `CRIT: ${d.error}`);
        throw new CliExit(2);
      }
      url = d.url;
    }
    const r = await probeHealth(url);
    console.log(args.json ? JSON.stringify(r.json) : r.line);
    if (r.exitCode !== 0) throw new CliExit(r.exitCode);
  },
});
