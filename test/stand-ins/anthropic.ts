// A Messages API stand-in on loopback: answers POST /v1/messages from a script (a queue
// of text, tool_use or error answers) and records every request, headers included, so
// tests can check what the agent sent (tool_result, x-api-key) without the real API.
// GET /v1/models/{id} answers as the Models API does (doctor's key check); with `apiKey`
// set, any other key gets the API's 401 authentication_error.

export interface ScriptedUsage {
  input_tokens: number;
  output_tokens: number;
}

export type ScriptedResponse =
  | { text: string; usage?: ScriptedUsage; delayMs?: number }
  | {
      toolUse: Array<{ name: string; input: unknown; id?: string }> | { name: string; input: unknown; id?: string };
      /** Text said before the tool calls, if any. */
      text?: string;
      usage?: ScriptedUsage;
      delayMs?: number;
    }
  /** An API error answer, e.g. {status: 401, type: "authentication_error", message: "invalid x-api-key"}. */
  | { error: { status: number; type: string; message: string }; delayMs?: number };

export interface RecordedRequest {
  path: string;
  headers: Record<string, string>;
  body: {
    model: string;
    max_tokens: number;
    system?: unknown;
    tools?: Array<{ name: string }>;
    messages: Array<{ role: string; content: unknown }>;
  };
}

export interface AnthropicStandIn {
  /** Give this to the SDK as baseURL. */
  baseURL: string;
  requests: RecordedRequest[];
  script(responses: ScriptedResponse[]): void;
  stop(): void;
}

export interface AnthropicStandInOptions {
  /** The one key accepted; unset: any key. */
  apiKey?: string;
}

export function startAnthropicStandIn(opts: AnthropicStandInOptions = {}): AnthropicStandIn {
  const queue: ScriptedResponse[] = [];
  const requests: RecordedRequest[] = [];
  let ids = 0;

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      const body = (await req.json().catch(() => null)) as RecordedRequest["body"];
      requests.push({ path, headers: Object.fromEntries(req.headers.entries()), body });
      // SDK 1.14 presents the key as `Authorization: Bearer`; older ones as x-api-key.
      const key = req.headers.get("x-api-key") ?? req.headers.get("authorization")?.replace(/^Bearer /, "");
      if (opts.apiKey !== undefined && key !== opts.apiKey) {
        return apiError(401, "authentication_error", "invalid x-api-key");
      }
      const model = /^\/v1\/models\/([^/]+)$/.exec(path);
      if (req.method === "GET" && model) {
        const id = decodeURIComponent(model[1] as string);
        if (!id.startsWith("claude-")) return apiError(404, "not_found_error", `model: ${id}`);
        return Response.json({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" });
      }
      if (req.method !== "POST" || path !== "/v1/messages") {
        return apiError(404, "not_found_error", `stand-in: no route ${req.method} ${path}`);
      }
      const next = queue.shift();
      // 400 is not retried by the SDK, so a test that forgot to script fails fast.
      if (!next) return apiError(400, "invalid_request_error", "stand-in: no scripted response left");
      if (next.delayMs) await Bun.sleep(next.delayMs);
      if ("error" in next) return apiError(next.error.status, next.error.type, next.error.message);

      const content: unknown[] = [];
      if (next.text) content.push({ type: "text", text: next.text, citations: null });
      let stop = "end_turn";
      if ("toolUse" in next) {
        stop = "tool_use";
        const uses = Array.isArray(next.toolUse) ? next.toolUse : [next.toolUse];
        for (const u of uses) {
          content.push({ type: "tool_use", id: u.id ?? `toolu_standin_${++ids}`, name: u.name, input: u.input, caller: { type: "direct" } });
        }
      }
      return Response.json({
        id: `msg_standin_${++ids}`,
        type: "message",
        role: "assistant",
        model: body?.model ?? "unknown",
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: next.usage ?? { input_tokens: 10, output_tokens: 5 },
      });
    },
  });

  return {
    baseURL: `http://127.0.0.1:${server.port}`,
    requests,
    script(responses) {
      queue.push(...responses);
    },
    stop() {
      server.stop(true);
    },
  };
}

function apiError(status: number, type: string, message: string): Response {
  return Response.json({ type: "error", error: { type, message } }, { status });
}
