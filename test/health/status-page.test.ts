// GET / in process: what a person reads for each status, every list, escaping, redaction,
// and a page that renders whatever state the bot or its store is in.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { systemClock } from "../../src/core/clock.ts";
import { makeRedactor } from "../../src/core/redact.ts";
import type { Approval, LogEntry, OutboxItem, Store } from "../../src/core/store.ts";
import { createHealthApp } from "../../src/health/app.ts";
import { PAGE_LIMITS, readStatusPageData } from "../../src/health/status-data.ts";
import { clockTime, renderStatusPage, type StatusPageView } from "../../src/health/status-page.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";
import { visibleText } from "../helpers/html.ts";
import { snapshot } from "./snapshot.ts";

const NOW = new Date(2026, 2, 14, 12, 30, 0).getTime();
const MIN = 60_000;
const TOKEN = "xoxb-1111-2222-plantedsecret";
const SIGNING = "signing-secret-0123456789";
const redact = makeRedactor([TOKEN, SIGNING]);
const EVIL = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

function approval(over: Partial<Approval> = {}): Approval {
  return {
    id: "ap_0001",
    kind: "exec",
    text: "df -h /",
    reason: null,
    status: "pending",
    requestedBy: "UALICE",
    channel: "CJOBS",
    threadTs: null,
    eventKey: null,
    resume: null,
    createdAt: NOW - 3 * MIN,
    expiresAt: NOW + 12 * MIN,
    decidedBy: null,
    decidedAt: null,
    decidedIn: null,
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    output: null,
    pid: null,
    runner: null,
    ...over,
  };
}

function outboxItem(over: Partial<OutboxItem> = {}): OutboxItem {
  return {
    id: 42,
    eventKey: "ev:1",
    op: "post",
    channel: "CGONE",
    threadTs: null,
    user: null,
    targetTs: null,
    responseUrl: null,
    text: "the answer",
    blocks: null,
    fingerprint: null,
    status: "failed",
    attempts: 3,
    nextAttemptAt: NOW,
    lastError: "channel_not_found",
    leaseUntil: null,
    sentTs: null,
    createdAt: NOW - 7 * MIN,
    content: null,
    fileName: null,
    fileTitle: null,
    ...over,
  };
}

const logLine = (over: Partial<LogEntry> = {}): LogEntry => ({ id: 1, at: NOW - MIN, level: "warn", msg: "relay slow", fields: null, ...over });

function view(over: Partial<StatusPageView> = {}): StatusPageView {
  return {
    now: NOW,
    snapshot: snapshot({ uptime_s: 3 * 3600 }),
    instance: "host-a:4242",
    store: { kind: "sqlite", location: "/var/lib/clawdbot/clawdbot.db" },
    connection: {
      state: "connected",
      nextAttemptAt: null,
      downSince: null,
      history: [
        { at: NOW - 2 * MIN, kind: "reconnected" },
        { at: NOW - 3 * MIN, kind: "dropped", detail: "closed (1006)" },
        { at: NOW - 60 * MIN, kind: "connected" },
      ],
    },
    data: { approvals: [approval()], failedOutbox: [outboxItem()], problems: [logLine()] },
    ...over,
  };
}

async function page(v: StatusPageView): Promise<{ status: number; headers: Headers; body: string }> {
  const app = createHealthApp({ snapshot: () => v.snapshot, statusPage: () => renderStatusPage(v, redact) });
  const res = await app.handle(new Request("http://127.0.0.1/"));
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const text = visibleText;

describe("GET / (the status page)", () => {
  test("ok: the status in words, instance, version, uptime, figures, history, approvals, failed items, warnings", async () => {
    const { status, headers, body } = await page(view());
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(headers.get("cache-control")).toBe("no-store");
    const t = text(body);
    expect(t).toContain("OK connected to Slack, last event 4 s ago");
    expect(t).toContain("version 0.1.0 · instance host-a:4242 · up 3.0 h · socket mode · store sqlite /var/lib/clawdbot/clawdbot.db");
    expect(t).toContain("reconnects: 2");
    expect(t).toContain("outbox failed: 1");
    // Connection history, newest first, with times and reasons.
    expect(t).toContain(`${clockTime(NOW - 2 * MIN, NOW)} reconnected ${clockTime(NOW - 3 * MIN, NOW)} connection lost closed (1006)`);
    expect(t).toContain("Pending approvals (1)");
    expect(t).toContain("ap_0001 exec UALICE 3 min 12 min df -h /");
    expect(t).toContain(`Failed outbox items (1)`);
    expect(t).toContain(`42 ${clockTime(NOW - 7 * MIN, NOW)} post to CGONE 3 channel_not_found the answer`);
    expect(t).toContain(`${clockTime(NOW - MIN, NOW)} warn relay slow`);
    expect(body).toContain("<title>clawdbot: OK</title>");
  });

  test("disconnected: since when, why, and when the next attempt is; still 200 (health says 503)", async () => {
    const v = view({
      snapshot: snapshot({ status: "disconnected", connected: false, reason: "apps.connections.open failed: connect ECONNREFUSED" }),
      connection: { state: "backoff", nextAttemptAt: NOW + 20_000, downSince: NOW - 11 * MIN, history: [] },
    });
    const { status, body } = await page(v);
    expect(status).toBe(200);
    expect(text(body)).toContain(
      `Disconnected not connected to Slack since ${clockTime(NOW - 11 * MIN, NOW)} (11 min): apps.connections.open failed: connect ECONNREFUSED; retrying in 20 s`,
    );
    const health = await createHealthApp({ snapshot: () => v.snapshot }).handle(new Request("http://127.0.0.1/health"));
    expect(health.status).toBe(503);
  });

  test("stale, revoked, starting and a status this page does not know yet are put in words", async () => {
    const words = async (over: Parameters<typeof snapshot>[0]) => text((await page(view({ snapshot: snapshot(over) }))).body);
    expect(await words({ status: "stale", reason: "nothing received from Slack for 11 min" })).toContain(
      "Stale connected but hearing nothing: nothing received from Slack for 11 min",
    );
    expect(await words({ status: "revoked", reason: "Slack access revoked: invalid_auth" })).toContain(
      "Revoked Slack access revoked: invalid_auth: fix the app's tokens and restart clawdbot",
    );
    expect(await words({ status: "starting", reason: "waiting for Slack's auth.test" })).toContain("Starting waiting for Slack's auth.test");
    expect(await words({ status: "store_unavailable" as never, reason: "database unreachable" })).toContain("Store unavailable database unreachable");
    expect(await words({ paused: true })).toContain("paused: messages get a short notice and no answer, no job starts (/claw resume)");
  });

  test("the store unavailable: the page still renders and says so", async () => {
    const { status, body } = await page(view({ data: { unavailable: "the store /x/clawdbot.db cannot be read: database is locked" } }));
    expect(status).toBe(200);
    const t = text(body);
    expect(t).toContain("Store unavailable the store /x/clawdbot.db cannot be read: database is locked");
    expect(t).toContain("Connection history");
    expect(t).not.toContain("Pending approvals");
  });

  test("http mode and before the start: no connection history, said in words", async () => {
    expect(text((await page(view({ snapshot: snapshot({ mode: "http" }), connection: null }))).body)).toContain(
      "http mode: Slack posts events to /slack/events; there is no socket to watch.",
    );
  });

  test("<script> in a command, an error, a log line, a reason or a history entry is shown as text, never as HTML", async () => {
    const { body } = await page(
      view({
        snapshot: snapshot({ status: "disconnected", reason: EVIL, workers: { outbox: { runs: 1, failures: 1, consecutive_failures: 1, last_error: EVIL } } }),
        connection: { state: "connecting", nextAttemptAt: null, downSince: NOW - MIN, history: [{ at: NOW, kind: "failed", detail: EVIL }] },
        data: {
          approvals: [approval({ text: `echo ${EVIL}`, requestedBy: EVIL, id: `ap_"><b>` })],
          failedOutbox: [outboxItem({ lastError: EVIL, text: EVIL, channel: EVIL })],
          problems: [logLine({ msg: EVIL, fields: JSON.stringify({ e: EVIL }), level: `warn"><script>alert(2)</script>` })],
        },
      }),
    );
    // The page's one script is its own; nothing else made it in as markup.
    expect(body.match(/<script/g)).toHaveLength(1);
    expect(body).not.toContain("<img");
    expect(body).toContain("<code>ap_&quot;&gt;&lt;b&gt;</code>");
    expect(body).toContain('class="lvl-warn&quot;&gt;&lt;script&gt;');
    expect(body).toContain("echo &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;");
    expect(text(body)).toContain(`echo ${EVIL}`);
  });

  test("no secret on the page: a token planted in a log line, an outbox error, a command and a reason is redacted", async () => {
    const long = `${"x".repeat(290)} ${SIGNING} tail`;
    const { body } = await page(
      view({
        snapshot: snapshot({ reason: `workers failing: relay (${TOKEN})` }),
        connection: { state: "connected", nextAttemptAt: null, downSince: null, history: [{ at: NOW, kind: "dropped", detail: `bad ${TOKEN}` }] },
        store: { kind: "postgres", location: `postgres://bot:${SIGNING}@db/clawdbot` },
        data: {
          approvals: [approval({ text: `curl -H "Authorization: Bearer ${TOKEN}" https://slack.com` })],
          failedOutbox: [outboxItem({ lastError: `invalid_auth for ${TOKEN}`, text: long })],
          problems: [logLine({ msg: `posting with ${TOKEN} failed`, fields: JSON.stringify({ token: TOKEN, note: long }) })],
        },
      }),
    );
    expect(body).not.toContain("plantedsecret");
    expect(body).not.toContain("signing-secret");
    // Cut for the table only after redaction: no piece of the secret is left at the cut.
    expect(body).not.toContain("signing-");
    expect(text(body)).toContain("invalid_auth for [redacted]");
    expect(text(body)).toContain("posting with [redacted] failed");
    expect(text(body)).toContain("postgres://bot:[redacted]@db/clawdbot");
  });

  test("refreshes itself: a script reloads it in place, a meta refresh without script; its CSP lets only that script run", async () => {
    const { headers, body } = await page(view());
    expect(body).toContain('<noscript><meta http-equiv="refresh" content="5"></noscript>');
    expect(body).toContain("setTimeout(tick, 5000)");
    const csp = headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'self'");
    const script = /<script>([\s\S]*?)<\/script>/.exec(body)?.[1] ?? "";
    const hash = new Bun.CryptoHasher("sha256").update(script).digest("base64");
    expect(csp).toContain(`'sha256-${hash}'`);
  });

  test("like /health, the page answers only a loopback Host (a rebound DNS name gets 421)", async () => {
    const app = createHealthApp({ snapshot: () => snapshot(), loopbackOnly: true, statusPage: () => renderStatusPage(view(), redact) });
    expect((await app.handle(new Request("http://rebound.example.com/"))).status).toBe(421);
    expect((await app.handle(new Request("http://localhost:8093/"))).status).toBe(200);
  });

  test("a long list says how many of how many are shown", async () => {
    const { body } = await page(view({ snapshot: snapshot({ pending_approvals: 57 }) }));
    expect(text(body)).toContain("1 of 57 shown: the oldest");
  });
});

describe("the page's reads", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) cleanup(d);
  });

  test("bounded: each list at its limit; warnings and errors newest first, info left out", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const store = openSqliteStore(join(dir, "clawdbot.db"));
    try {
      for (let i = 0; i < PAGE_LIMITS.approvals + 5; i++) {
        await store.approvals.create({ id: `ap_${i}`, kind: "exec", text: "ls", requestedBy: "U1", channel: "C1", expiresAt: NOW + MIN }, NOW + i);
      }
      for (let i = 0; i < PAGE_LIMITS.failedOutbox + 5; i++) {
        await store.outbox.markFailed(await store.outbox.enqueue({ op: "post", channel: "C1", text: "t" }, NOW), `e${i}`, NOW);
      }
      for (let i = 0; i < PAGE_LIMITS.problems + 10; i++) await store.logs.append(NOW + i, i % 2 ? "error" : "info", `line ${i}`);
      const data = await readStatusPageData(store, systemClock);
      if ("unavailable" in data) throw new Error(data.unavailable);
      expect(data.approvals).toHaveLength(PAGE_LIMITS.approvals);
      expect(data.approvals[0]?.id).toBe("ap_0");
      expect(data.failedOutbox).toHaveLength(PAGE_LIMITS.failedOutbox);
      expect(data.failedOutbox[0]?.lastError).toBe(`e${PAGE_LIMITS.failedOutbox + 4}`);
      expect(data.problems).toHaveLength(20);
      expect(data.problems[0]?.msg).toBe(`line ${PAGE_LIMITS.problems + 9}`);
      expect(data.problems.every((l) => l.level === "error")).toBe(true);
    } finally {
      await store.close();
    }
  });

  test("a store that fails or does not answer: the page is told why, within the deadline", async () => {
    const never = new Promise<never>(() => {});
    const fake = (fn: () => Promise<never>) =>
      ({
        location: "/x/clawdbot.db",
        approvals: { withStatus: fn },
        outbox: { failed: fn },
        logs: { tail: fn, select: fn },
      }) as unknown as Store;
    const broken = await readStatusPageData(
      fake(() => Promise.reject(new Error("database is locked"))),
      systemClock,
    );
    expect(broken).toEqual({ unavailable: "the store /x/clawdbot.db cannot be read: database is locked" });
    const started = Date.now();
    const hung = await readStatusPageData(
      fake(() => never),
      systemClock,
      50,
    );
    expect(hung).toEqual({ unavailable: "the store /x/clawdbot.db did not answer within 0.05 s" });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
