import { afterEach, describe, expect, test } from "bun:test";
import type { HealthSnapshot } from "../../src/core/health-types.ts";
import { createEventsApp, createHealthApp, startHealthServer, type RunningServer } from "../../src/health/app.ts";
import { snapshot } from "./snapshot.ts";

const get = (path: string) => new Request(`http://localhost${path}`);

describe("GET /health", () => {
  test("ok answers 200 with the snapshot as JSON", async () => {
    const snap = snapshot();
    const res = await createHealthApp({ snapshot: () => snap }).handle(get("/health"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual(snap);
  });

  test("paused is still ok: 200", async () => {
    const res = await createHealthApp({ snapshot: () => snapshot({ paused: true }) }).handle(get("/health"));
    expect(res.status).toBe(200);
  });

  for (const status of ["starting", "disconnected", "stale", "revoked"] as const) {
    test(`${status} answers 503 with the same JSON`, async () => {
      const res = await createHealthApp({ snapshot: () => snapshot({ status, reason: "why" }) }).handle(get("/health"));
      expect(res.status).toBe(503);
      const body = (await res.json()) as HealthSnapshot;
      expect(body.status).toBe(status);
      expect(body.reason).toBe("why");
    });
  }

  test("the snapshot is taken per request", async () => {
    let n = 0;
    const app = createHealthApp({ snapshot: () => snapshot({ reconnects: ++n }) });
    await app.handle(get("/health"));
    const body = (await (await app.handle(get("/health"))).json()) as HealthSnapshot;
    expect(body.reconnects).toBe(2);
  });
});

describe("routing", () => {
  test("unknown paths are 404", async () => {
    const app = createHealthApp({ snapshot: () => snapshot() });
    expect((await app.handle(get("/nope"))).status).toBe(404);
    expect((await app.handle(get("/"))).status).toBe(404);
  });

  test("the health app has no POST /slack/events: 404", async () => {
    const app = createHealthApp({ snapshot: () => snapshot() });
    const res = await app.handle(new Request("http://localhost/slack/events", { method: "POST", body: "{}" }));
    expect(res.status).toBe(404);
  });
});

describe("POST /slack/events", () => {
  // Bodies Elysia would love to parse or normalise: JSON with odd spacing, form data, unicode.
  const cases: [string, string][] = [
    ["application/json", '{ "type":"url_verification",  "challenge":"c\\u00e9",\n"x": 1.50 }'],
    ["application/x-www-form-urlencoded", "payload=%7B%22a%22%3A1%7D&token=x+y&z=%C3%A9"],
    ["text/plain; charset=utf-8", "héllo\r\n wörld  "],
  ];
  for (const [type, body] of cases) {
    test(`the handler gets the raw ${type} body byte for byte`, async () => {
      let seen: { body: string; headers: Headers; method: string } | undefined;
      const app = createEventsApp(async (req) => {
        seen = { body: await req.text(), headers: req.headers, method: req.method };
        return new Response("handled", { status: 202 });
      });
      const res = await app.handle(
        new Request("http://localhost/slack/events", {
          method: "POST",
          body,
          headers: { "content-type": type, "x-slack-signature": "v0=abc", "x-slack-request-timestamp": "123" },
        }),
      );
      expect(res.status).toBe(202);
      expect(await res.text()).toBe("handled");
      expect(seen?.body).toBe(body);
      expect(seen?.method).toBe("POST");
      expect(seen?.headers.get("x-slack-signature")).toBe("v0=abc");
    });
  }

  test("raw bytes survive over a real socket too", async () => {
    let got: Uint8Array | undefined;
    const app = createEventsApp(async (req) => {
      got = new Uint8Array(await req.arrayBuffer());
      return new Response("", { status: 200 });
    });
    const srv = startHealthServer(app, "127.0.0.1", 0);
    try {
      const bytes = new TextEncoder().encode('{"a":  "é"}\n');
      const res = await fetch(`http://127.0.0.1:${srv.port}/slack/events`, {
        method: "POST",
        body: bytes,
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(200);
      expect(got).toEqual(bytes);
    } finally {
      await srv.stop();
    }
  });
});

describe("startHealthServer", () => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });

  test("port 0 returns the real port, and it serves", async () => {
    const srv = startHealthServer(createHealthApp({ snapshot: () => snapshot() }), "127.0.0.1", 0);
    servers.push(srv);
    expect(srv.port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${srv.port}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as HealthSnapshot).status).toBe("ok");
  });

  test("a port in use names the setting to change", async () => {
    const app = createHealthApp({ snapshot: () => snapshot() });
    const first = startHealthServer(app, "127.0.0.1", 0);
    servers.push(first);
    expect(() => startHealthServer(app, "127.0.0.1", first.port)).toThrow(`CLAWDBOT_HEALTH_PORT ${first.port} is in use`);
    expect(() => startHealthServer(app, "127.0.0.1", first.port, "CLAWDBOT_HTTP_PORT")).toThrow(
      `CLAWDBOT_HTTP_PORT ${first.port} is in use`,
    );
  });

  test("stop frees the port", async () => {
    const app = createHealthApp({ snapshot: () => snapshot() });
    const first = startHealthServer(app, "127.0.0.1", 0);
    await first.stop();
    const again = startHealthServer(app, "127.0.0.1", first.port);
    servers.push(again);
    expect(again.port).toBe(first.port);
  });
});
