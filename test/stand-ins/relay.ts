// A conversation relay on loopback for tests and the sandbox: records every call and
// misbehaves on request (slow, 500, bad answer, or down with the port refusing).
import type { ContextMessage } from "../../src/agents/types.ts";

export type RelayMode =
  | { mode: "ok"; messages?: ContextMessage[] }
  | { mode: "slow"; delayMs: number; messages?: ContextMessage[] }
  | { mode: "error"; status?: number }
  /** 200 with JSON that is not `{messages: [...]}`. */
  | { mode: "bad" }
  /** The server is stopped: connections are refused. */
  | { mode: "down" };

export interface RelayCall {
  path: string;
  body: unknown;
  at: number;
}

export interface RelayStandIn {
  url: string;
  calls: RelayCall[];
  /** Calls to one path. */
  callsTo(path: "/context" | "/log"): RelayCall[];
  setMode(mode: RelayMode): void;
  stop(): void;
}

export function startRelayStandIn(opts: { mode?: RelayMode } = {}): RelayStandIn {
  let mode: RelayMode = opts.mode ?? { mode: "ok" };
  const calls: RelayCall[] = [];

  const serve = (port: number) =>
    Bun.serve({
      hostname: "127.0.0.1",
      port,
      async fetch(req) {
        const path = new URL(req.url).pathname;
        let body: unknown = null;
        try {
          body = await req.json();
        } catch {
          body = null;
        }
        calls.push({ path, body, at: Date.now() });
        const m = mode;
        if (m.mode === "error") return new Response("relay stand-in error", { status: m.status ?? 500 });
        if (m.mode === "bad") return Response.json({ nope: true });
        if (m.mode === "slow") await Bun.sleep(m.delayMs);
        if (path === "/log") return Response.json({ ok: true });
        if (path === "/context") {
          const messages = m.mode === "ok" || m.mode === "slow" ? (m.messages ?? []) : [];
          return Response.json({ messages });
        }
        return new Response("not found", { status: 404 });
      },
    });

  let server: ReturnType<typeof serve> | undefined = serve(0);
  const port = server.port;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsTo: (path) => calls.filter((c) => c.path === path),
    setMode(next) {
      mode = next;
      if (next.mode === "down") {
        server?.stop(true);
        server = undefined;
      } else if (!server) {
        // Back up on the same port, as a restarted relay would be.
        server = serve(port as number);
      }
    },
    stop() {
      server?.stop(true);
      server = undefined;
    },
  };
}
