// The HTTP face of the bot: GET /health, GET /metrics, the status page (GET /) and, in http
// mode, POST /slack/events.
// Built without listening so tests drive it with app.handle(new Request(...)).
import { Elysia } from "elysia";
import type { HealthSnapshot } from "../core/health-types.ts";
import { METRICS_CONTENT_TYPE, renderMetrics } from "./metrics.ts";
import { STATUS_PAGE_CSP } from "./status-page.ts";

export interface HealthAppDeps {
  snapshot: () => HealthSnapshot | Promise<HealthSnapshot>;
  /** GET /: the status page's HTML (status-page.ts renders it). */
  statusPage?: () => string | Promise<string>;
  /** http mode: receives the untouched Request (raw body needed for signature checking). */
  slackEvents?: (req: Request) => Promise<Response>;
}

const noStore = { "cache-control": "no-store" };

export function createHealthApp(deps: HealthAppDeps): Elysia {
  // Registered one call at a time (Elysia registers in place), so the result is a plain Elysia.
  const app = new Elysia();
  app.onError(({ code }) => {
    if (code === "NOT_FOUND") return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
  });

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

  const slackEvents = deps.slackEvents;
  if (slackEvents) {
    // parse: "none" keeps Elysia's hands off the body: the signature covers the exact bytes.
    app.post("/slack/events", ({ request }) => slackEvents(request), { parse: "none" });
  }

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
