// GET / on the health server: the bot's state for a person, as one server-rendered HTML page
// (no framework, no external asset). Every value goes through the redactor and is HTML-escaped
// by the `html` template below; only the page's own markup is written raw. A small script
// refreshes the page in place and, when the bot stops answering, says so instead of leaving
// the browser on an error page.
import { createHash } from "node:crypto";
import type { ConnectionEvent } from "../core/connection-history.ts";
import { formatDuration } from "../core/duration.ts";
import type { HealthSnapshot } from "../core/health-types.ts";
import type { Approval, LogEntry, OutboxItem } from "../core/store.ts";
import type { SupervisorState } from "../core/supervisor.ts";

/** Seconds between refreshes: fresh enough to watch a reconnect, light on the store. */
export const REFRESH_S = 5;

export interface StatusPageData {
  /** Pending approvals, oldest first. */
  approvals: Approval[];
  /** Failed outbox items, newest first. */
  failedOutbox: OutboxItem[];
  /** Recent warnings, errors and critical lines, newest first. */
  problems: LogEntry[];
}

export interface StatusPageView {
  now: number;
  snapshot: HealthSnapshot;
  /** This process, as its leases name it (host:pid). */
  instance: string;
  store: { kind: string; location: string } | null;
  /** Socket mode: the supervisor's view and its history; null in http mode or before start. */
  connection: { state: SupervisorState; nextAttemptAt: number | null; downSince: number | null; history: ConnectionEvent[] } | null;
  /** What the store holds, or why it could not be read. */
  data: StatusPageData | { unavailable: string };
}

// ---- escaping ----------------------------------------------------------------------------

class Html {
  constructor(readonly text: string) {}
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

type Value = Html | string | number | null | undefined | Value[];

/** A template whose interpolations are redacted and escaped, except fragments it made itself. */
function template(redact: (s: string) => string) {
  const show = (v: Value): string => {
    if (v instanceof Html) return v.text;
    if (Array.isArray(v)) return v.map(show).join("");
    if (v === null || v === undefined) return "";
    return escapeHtml(redact(String(v)));
  };
  return (strings: TemplateStringsArray, ...values: Value[]) =>
    new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? show(values[i] as Value) : ""), ""));
}

// ---- times -------------------------------------------------------------------------------

const pad = (n: number) => String(n).padStart(2, "0");

/** Local time of the bot's machine (the page is read on it: loopback): "12:03:07", with the date if not today. */
export function clockTime(at: number, now: number): string {
  const d = new Date(at);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return d.toDateString() === new Date(now).toDateString() ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

const span = (ms: number) => formatDuration(Math.max(0, Math.round(ms / 1000)));

// ---- what the status means -----------------------------------------------------------------

/** The status in words: a headline and the sentence under it. */
export function statusInWords(v: StatusPageView): { headline: string; detail: string } {
  const s = v.snapshot;
  const c = v.connection;
  switch (s.status) {
    case "ok": {
      const how = s.mode === "http" ? "Slack's events come over HTTP" : `connected to Slack`;
      const last = s.last_event_ago_s === null ? "no event yet" : `last event ${formatDuration(s.last_event_ago_s)} ago`;
      const paused = s.paused ? "; paused: messages get a short notice and no answer, no job starts (/claw resume)" : "";
      const note = s.reason ? `; ${s.reason}` : "";
      return { headline: s.paused ? "OK, paused" : "OK", detail: `${how}, ${last}${paused}${note}` };
    }
    case "disconnected": {
      const since = c?.downSince ? ` since ${clockTime(c.downSince, v.now)} (${span(v.now - c.downSince)})` : "";
      const why = s.reason ? `: ${s.reason}` : "";
      const next =
        c?.state === "backoff" && c.nextAttemptAt !== null && c.nextAttemptAt > v.now
          ? `; retrying in ${span(c.nextAttemptAt - v.now)}`
          : c?.state === "connecting"
            ? "; connecting now"
            : "";
      return { headline: "Disconnected", detail: `not connected to Slack${since}${why}${next}` };
    }
    case "stale":
      return { headline: "Stale", detail: `connected but hearing nothing: ${s.reason ?? "no sign of life from Slack"}; the connection is being replaced` };
    case "revoked":
      return { headline: "Revoked", detail: `${s.reason ?? "Slack access revoked"}: fix the app's tokens and restart clawdbot` };
    case "starting":
      return { headline: "Starting", detail: s.reason ?? "starting up" };
    default: {
      const name = String(s.status).replace(/_/g, " ");
      return { headline: name.charAt(0).toUpperCase() + name.slice(1), detail: s.reason ?? "" };
    }
  }
}

const HISTORY_WORDS: Record<ConnectionEvent["kind"], string> = {
  connected: "connected",
  reconnected: "reconnected",
  refresh: "Slack asked for a refresh",
  dropped: "connection lost",
  failed: "attempt failed",
  revoked: "access revoked",
};

// ---- the page ----------------------------------------------------------------------------

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px 24px;color:#1d1d1f;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta,.muted{color:#666}.meta{font-size:13px}
.status{border-left:6px solid #999;background:#fff;padding:10px 14px;margin:14px 0}
.status b{font-size:18px}.good{border-color:#2e7d32}.warn{border-color:#e6a100}.bad{border-color:#c62828}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{text-align:left;vertical-align:top;padding:4px 8px;border-bottom:1px solid #e4e4e4}
th{font-weight:600;background:#f0f0f0}
code,pre{font:13px/1.35 ui-monospace,Menlo,Consolas,monospace}pre{margin:0;white-space:pre-wrap;word-break:break-all}
.figures{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:14px}
.lvl-warn{color:#8a6100}.lvl-error,.lvl-critical{color:#c62828;font-weight:600}
#offline{background:#c62828;color:#fff;padding:8px 14px}
`;

// Replaces the body with a fresh copy every REFRESH_S seconds; if the bot does not answer,
// the last page stays and a banner says since when (a meta refresh would leave the browser
// on its own error page and stop trying). Scripts in the fetched copy are never run.
const SCRIPT = `
(() => {
  let down = null;
  const tick = async () => {
    try {
      const res = await fetch(location.href, { cache: "no-store" });
      if (!res.ok) throw new Error("HTTP " + res.status);
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      document.title = doc.title;
      document.body.replaceWith(document.adoptNode(doc.body));
      down = null;
    } catch (err) {
      down ??= new Date();
      const banner = document.getElementById("offline");
      if (banner) {
        banner.textContent = "clawdbot is not answering since " + down.toLocaleTimeString() + " (" + err.message + "); still trying. What follows is from before.";
        banner.hidden = false;
      }
    }
    setTimeout(tick, ${REFRESH_S * 1000});
  };
  setTimeout(tick, ${REFRESH_S * 1000});
})();
`;

const sha256 = (s: string) => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;

/** Only the page's own style and script may run; nothing is loaded from anywhere. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TONE: Record<string, string> = { ok: "good", starting: "warn", stale: "warn" };

export function renderStatusPage(v: StatusPageView, redact: (s: string) => string): string {
  const html = template(redact);
  const s = v.snapshot;
  const words = statusInWords(v);
  const when = (at: number) => html`<time datetime="${new Date(at).toISOString()}">${clockTime(at, v.now)}</time>`;
  const count = (shown: number, total: number, which: string) =>
    total > shown ? html`<p class="muted">${`${shown} of ${total} shown: the ${which}`}</p>` : "";
  // Cut after redacting: a cut through a secret would leave a piece the redactor cannot recognise.
  const short = (text: string, max = 300) => {
    const r = redact(text);
    return r.length > max ? `${r.slice(0, max)}…` : r;
  };

  const figures: [string, Value][] = [
    ["events received", s.events_received],
    ["replies sent", s.replies_sent],
    ["reconnects", s.reconnects],
    ["failed connection attempts", s.connection_failures],
    ["approvals pending", s.pending_approvals],
    ["jobs running or due", s.pending_exec],
    ["outbox pending", s.outbox_pending],
    ["outbox failed", s.outbox_failed],
    ["relay failures", s.relay_failures],
    ["heartbeat canary", s.canary],
  ];
  const failing = Object.entries(s.workers).filter(([, w]) => w.consecutive_failures > 0);

  const connection = !v.connection
    ? html`<p class="muted">${s.mode === "http" ? "http mode: Slack posts events to /slack/events; there is no socket to watch." : "Not started yet."}</p>`
    : v.connection.history.length === 0
      ? html`<p class="muted">Nothing yet.</p>`
      : html`<table><tr><th>time</th><th>what</th><th>why</th></tr>${v.connection.history.map(
          (e) => html`<tr><td>${when(e.at)}</td><td>${HISTORY_WORDS[e.kind]}</td><td>${e.detail}</td></tr>`,
        )}</table>`;

  let stored: Html;
  if ("unavailable" in v.data) {
    stored = html`<h2>Approvals, outbox, log</h2><p class="status bad"><b>Store unavailable</b><br>${v.data.unavailable}</p>`;
  } else {
    const d = v.data;
    stored = html`
<h2>Pending approvals (${s.pending_approvals})</h2>
${
  d.approvals.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<table><tr><th>id</th><th>kind</th><th>requested by</th><th>waiting</th><th>expires in</th><th>command</th></tr>${d.approvals.map(
        (a) =>
          html`<tr><td><code>${a.id}</code></td><td>${a.kind}</td><td>${a.requestedBy}</td><td>${span(v.now - a.createdAt)}</td><td>${
            a.expiresAt > v.now ? span(a.expiresAt - v.now) : "expired"
          }</td><td><pre>${a.text}</pre></td></tr>`,
      )}</table>`
}${count(d.approvals.length, s.pending_approvals, "oldest")}
<h2>Failed outbox items (${s.outbox_failed})</h2>
${
  d.failedOutbox.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<table><tr><th>id</th><th>created</th><th>what</th><th>attempts</th><th>error</th><th>text</th></tr>${d.failedOutbox.map(
        (o) =>
          html`<tr><td>${o.id}</td><td>${when(o.createdAt)}</td><td>${o.op} to ${o.channel}</td><td>${o.attempts}</td><td><pre>${o.lastError}</pre></td><td>${short(o.text)}</td></tr>`,
      )}</table>${count(d.failedOutbox.length, s.outbox_failed, "newest")}<p class="muted">clawdbot replay sends them again once the cause is fixed.</p>`
}
<h2>Recent warnings and errors</h2>
${
  d.problems.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<table><tr><th>time</th><th>level</th><th>message</th></tr>${d.problems.map(
        (l) =>
          html`<tr><td>${when(l.at)}</td><td class="lvl-${l.level}">${l.level}</td><td>${l.msg}${l.fields ? html` <code class="muted">${short(l.fields)}</code>` : ""}</td></tr>`,
      )}</table>`
}`;
  }

  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>clawdbot: ${words.headline}</title>
<noscript><meta http-equiv="refresh" content="${REFRESH_S}"></noscript>
<style>${new Html(STYLE)}</style>
<script>${new Html(SCRIPT)}</script>
</head><body>
<p id="offline" hidden></p>
<h1>clawdbot</h1>
<p class="meta">version ${s.version} · instance ${v.instance} · up ${formatDuration(s.uptime_s)} · ${s.mode} mode${
    v.store ? html` · store ${v.store.kind} ${v.store.location}` : ""
  } · this page at ${clockTime(v.now, v.now)}, refreshed every ${REFRESH_S} s</p>
<div class="status ${s.paused ? "warn" : (TONE[s.status] ?? "bad")}" id="status"><b>${words.headline}</b><br>${words.detail}</div>
<div class="figures">${figures.map(([k, n]) => html`<span>${k}: <b>${n}</b></span>`)}</div>
${failing.length ? html`<p class="lvl-error">Failing workers: ${failing.map(([n, w]) => `${n} (${w.consecutive_failures}× ${w.last_error ?? ""})`).join("; ")}</p>` : ""}
<h2>Connection history</h2>
${connection}
${stored}
</body></html>
`.text;
}
