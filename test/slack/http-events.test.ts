import { describe, expect, test } from "bun:test";
import { memoryLogger } from "../../src/core/logger.ts";
import { createEventsApp, startHealthServer } from "../../src/health/app.ts";
import { readBodyLimited, slackEventsHandler } from "../../src/slack/http-events.ts";
import { slackSignature } from "../../src/slack/signature.ts";

const secret = "0123456789abcdef0123456789abcdef";
const NOW = 1_700_000_000_000;

function handler(max?: number) {
  const delivered: { type: string; payload: Record<string, unknown> }[] = [];
  const h = slackEventsHandler({
    signingSecret: secret,
    log: memoryLogger(),
    now: () => NOW,
    maxBodyBytes: max,
    deliver: (type, payload) => {
      delivered.push({ type, payload });
      return true;
    },
  });
  return { h, delivered };
}

function signed(body: string | ReadableStream, contentType: string, raw = typeof body === "string" ? body : ""): Request {
  const ts = String(NOW / 1000);
  return new Request("http://localhost/slack/events", {
    method: "POST",
    body,
    headers: { "content-type": contentType, "x-slack-request-timestamp": ts, "x-slack-signature": slackSignature(secret, ts, raw) },
  });
}

describe("POST /slack/events handler", () => {
  test("a body past the limit is refused with 413 before it is buffered, nothing delivered", async () => {
    const { h, delivered } = handler(1000);
    const res = await h(signed("x".repeat(1001), "application/json"));
    expect(res.status).toBe(413);
    expect(delivered).toHaveLength(0);
  });

  test("a streamed body with no content-length is cut off at the limit", async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        if (pulled > 10_000) return c.close(); // would be 640 MB if read to the end
        c.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const body = await readBodyLimited(new Request("http://localhost/", { method: "POST", body: stream }), 1024 * 1024);
    expect(body).toBeNull();
    expect(pulled).toBeLessThan(40);
  });

  test("a body at the limit is read whole", async () => {
    const body = JSON.stringify({ type: "event_callback", pad: "y".repeat(500) });
    const { h, delivered } = handler(body.length);
    expect((await h(signed(body, "application/json"))).status).toBe(200);
    expect(delivered[0]?.type).toBe("events_api");
  });

  test("ssl_check is answered 200 and is not a slash command", async () => {
    const { h, delivered } = handler();
    const res = await h(signed("ssl_check=1&token=abcdefgh", "application/x-www-form-urlencoded"));
    expect(res.status).toBe(200);
    expect(delivered).toHaveLength(0);
  });

  test("JSON that is not an object is a 400, not a crash", async () => {
    const { h, delivered } = handler();
    expect((await h(signed("null", "application/json"))).status).toBe(400);
    expect((await h(signed("payload=null", "application/x-www-form-urlencoded"))).status).toBe(400);
    expect(delivered).toHaveLength(0);
  });

  test("url_verification answers the challenge; a bad signature is 401", async () => {
    const { h } = handler();
    const ok = await h(signed('{"type":"url_verification","challenge":"abc"}', "application/json"));
    expect(await ok.json()).toEqual({ challenge: "abc" });
    const bad = signed('{"type":"url_verification","challenge":"abc"}', "application/json", "other");
    expect((await h(bad)).status).toBe(401);
  });

  test("the real server refuses a huge POST with 413", async () => {
    const { h, delivered } = handler();
    const srv = startHealthServer(createEventsApp(h), "127.0.0.1", 0);
    try {
      const res = await fetch(`http://127.0.0.1:${srv.port}/slack/events`, {
        method: "POST",
        body: new Uint8Array(3 * 1024 * 1024),
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(413);
      expect(delivered).toHaveLength(0);
    } finally {
      await srv.stop();
    }
  });
});
