// Slack error classification (never = permanent, later = transient) and frame parsing.
import { describe, expect, test } from "bun:test";
import { ErrorCode } from "@slack/web-api";
import { systemClock } from "../../src/core/clock.ts";
import { frameText, SocketConnection } from "../../src/slack/socket-connection.ts";
import { classifySlackError } from "../../src/slack/web-port.ts";

const platform = (error: string) => ({ code: ErrorCode.PlatformError, data: { ok: false, error } });

describe("classifySlackError", () => {
  test("errors that retrying cannot change are permanent", () => {
    for (const code of ["restricted_action_thread_locked", "cannot_reply_to_message", "access_denied", "no_permission", "invalid_metadata_schema", "ekm_access_denied", "team_access_not_granted"]) {
      expect(classifySlackError(platform(code)).kind).toBe("permanent");
    }
  });
  test("Slack's own trouble is transient; ratelimited inside ok:false waits", () => {
    for (const code of ["internal_error", "fatal_error", "service_unavailable", "request_timeout"]) {
      expect(classifySlackError(platform(code)).kind).toBe("transient");
    }
    expect(classifySlackError(platform("ratelimited"))).toMatchObject({ kind: "ratelimited" });
    expect(classifySlackError(platform("token_revoked")).kind).toBe("revoked");
  });
});

describe("socket frames", () => {
  test("binary frames decode as UTF-8 text", () => {
    const bytes = new TextEncoder().encode('{"type":"hello"}');
    expect(frameText(bytes)).toBe('{"type":"hello"}');
    expect(frameText(bytes.buffer)).toBe('{"type":"hello"}');
    expect(frameText(Buffer.from(bytes))).toBe('{"type":"hello"}');
  });

  test("JSON frames that are not objects (null, numbers, arrays) are ignored without an error; hello still works", async () => {
    const srv = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req, s) => (s.upgrade(req) ? undefined : new Response("no", { status: 400 })),
      websocket: {
        open(ws) {
          for (const f of ["null", "42", "[1]", '"x"', "{not json"]) ws.send(f);
          ws.send(new TextEncoder().encode('{"type":"hello"}'));
        },
        message() {},
      },
    });
    const errors: unknown[] = [];
    const onErr = (e: unknown) => errors.push(e);
    process.on("uncaughtException", onErr);
    let hello = false;
    const conn = new SocketConnection(
      `ws://127.0.0.1:${srv.port}`,
      { hello: () => (hello = true), envelope: () => {}, disconnectMessage: () => {}, closed: () => {} },
      systemClock,
    );
    try {
      const deadline = Date.now() + 5000;
      while (!hello && Date.now() < deadline) await Bun.sleep(10);
      expect(hello).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      process.off("uncaughtException", onErr);
      conn.destroy();
      srv.stop(true);
    }
  });
});
