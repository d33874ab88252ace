// The HTTP faces of the bot, built without listening so tests drive them with
// app.handle(new Request(...)): the health server (GET /health, GET /metrics, the status page
// at GET /; loopback by default) and, in http mode, the public events port (POST /slack/events
// and nothing else).
import { Elysia } from "elysia";
import type { HealthSnapshot } from "../core/health-types.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { STATUS_PAGE_CSP } from "./status-page.ts";

export interface HealthAppDeps {
  snapshot: () => HealthSnapshot | Promise<HealthSnapshot>;
  /**
   * The server is bound to a loopback address: answer only requests whose Host is a loopback
   * name, so a web page whose DNS name was rebound to 127.0.0.1 cannot read it from a browser.
   */
  loopbackOnly?: boolean;
  /** GET /: the status page's HTML (status-page.ts renders it). */
  statusPage?: () => string | Promise<string>;
}

const noStore = { "cache-control": "no-store" };
const text = (body: string, status: number) => new Response(body, { status, headers: { "content-type": "text/plain" } });

function withNotFound(app: Elysia): Elysia {
  app.onError(({ code }) => {
    if (code === "NOT_FOUND") return text("not found\n", 404);
  });
  return app;
}

/** localhost, [::1] and 127/8 literals (CLAWDBOT_HEALTH_HOST may be 127.0.0.2): never a name an attacker's DNS controls. */
const isLoopbackName = (host: string) => host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);

/** The request's Host without its port, from the header (a real socket) or the URL (app.handle). */
function requestHost(req: Request): string | null {
  const header = req.headers.get("host");
  const raw = header ?? (URL.canParse(req.url) ? new URL(req.url).host : null);
  if (!raw) return null;
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(raw.trim().toLowerCase());
  return m?.[1] ?? null;
}

export function createHealthApp(deps: HealthAppDeps): Elysia {
  // Registered one call at a time (Elysia registers in place), so the result is a plain Elysia.
  const app = withNotFound(new Elysia());
  if (deps.loopbackOnly) {
    // 421 Misdirected Request: this server does not answer for that name (RFC 9110 15.5.20).
    app.onRequest(({ request }) => {
      const host = requestHost(request);
      if (!host || !isLoopbackName(host)) return text("misdirected request: the health server answers only 127.0.0.1, localhost and [::1]\n", 421);
    });
  }

  // Not ok answers 503, so plain HTTP checkers (load balancers, uptime monitors) see
  // the difference without parsing JSON; the body is the same JSON either way.
  app.get("/health", async () => {
    const snap = await deps.snapshot();
    return new Response(JSON.stringify(snap), {
      status: snap.status === "ok" ? 200 : 503,
      headers: { "content-type": "application/json; charset=utf-8", ...noStore },
    });
  });

  app.get(
    "/metrics",
    async () => new Response(renderMetrics(await deps.snapshot()), { headers: { "content-type": METRICS_CONTENT_TYPE, ...noStore } }),
  );

  // 200 whatever the status: the page is for people, and a browser or a script fetching it
  // should see the page, not an error; monitors read /health, which answers 503.
  const statusPage = deps.statusPage;
  if (statusPage) {
    app.get(
      "/",
      async () =>
        new Response(await statusPage(), {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": STATUS_PAGE_CSP,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            ...noStore,
          },
        }),
    );
  }
  return app;
}

/**
 * The public events port of http mode: `POST /slack/events` and nothing else (health and
 * metrics stay on the loopback health server). The handler gets the untouched Request: the
 * signature covers the raw body.
 */
export function createEventsApp(slackEvents: (req: Request) => Promise<Response>): Elysia {
  const app = withNotFound(new Elysia());
  // parse: "none" keeps Elysia's hands off the body.
  app.post("/slack/events", ({ request }) => slackEvents(request), { parse: "none" });
  return app;
}

/** Bun's default is 128 MB per request; no request to this server is legitimately near 1 MB. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export interface RunningServer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Serves `app` on host:port (port 0 picks a free one). `setting` names the variable an
 * operator changes when the port is taken (the http events server passes its own).
 */
export function startHealthServer(
  app: { handle: (req: Request) => Promise<Response> | Response },
  host: string,
  port: number,
  setting = "CLAWDBOT_HEALTH_PORT",
): RunningServer {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: host, port, maxRequestBodySize: MAX_REQUEST_BYTES, fetch: (req) => app.handle(req) });
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === "EADDRINUSE" || /in use/i.test(e.message ?? "")) {
      throw new Error(`${setting} ${port} is in use on ${host}; stop the other process (another clawdbot?) or set ${setting} to a free port`);
    }
    throw new Error(`${setting} ${port}: cannot listen on ${host}: ${e.message ?? String(err)}`);
  }
  return {
    port: server.port ?? port,
    stop: () => server.stop(true),
  };
}
