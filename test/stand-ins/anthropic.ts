// A Messages API stand-in on loopback: answers POST /v1/messages from a script (a queue
// of text, tool_use or error answers) and records every request, headers included, so
// tests can check what the agent sent (tool_result, x-api-key) without the real API.
// A request with `stream: true` gets the answer as server-sent events, as the API sends them
// (https://docs.claude.com/en/docs/build-with-claude/streaming): message_start, a
// content_block_start / _delta... / _stop per block, message_delta, message_stop.
// GET /v1/models/{id} answers as the Models API does (doctor's key check); with `apiKey`
// set, any other key gets the API's 401 authentication_error.

export interface ScriptedUsage {
  input_tokens: number;
  output_tokens: number;
}

export type ScriptedResponse =
  | {
      text: string;
      /** Streamed: the text in these pieces (joined, they are `text`), `chunkDelayMs` apart. */
      chunks?: string[];
      chunkDelayMs?: number;
      usage?: ScriptedUsage;
      delayMs?: number;
    }
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
    stream?: boolean;
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
      const message = {
        id: `msg_standin_${++ids}`,
        type: "message",
        role: "assistant",
        model: body?.model ?? "unknown",
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: next.usage ?? { input_tokens: 10, output_tokens: 5 },
      };
      if (!body?.stream) return Response.json(message);
      const pieces = "chunks" in next && next.chunks ? next.chunks : [next.text ?? ""];
      return sse(message, pieces, "chunkDelayMs" in next ? (next.chunkDelayMs ?? 0) : 0);
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

interface StandInMessage {
  content: unknown[];
  usage: ScriptedUsage;
  stop_reason: string;
  [k: string]: unknown;
}

/** The message as a stream of events; its first text block in `pieces`. A client that goes away ends it. */
function sse(message: StandInMessage, pieces: string[], delayMs: number): Response {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async start(ctl) {
      const send = (type: string, data: Record<string, unknown>) => ctl.enqueue(enc.encode(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`));
      try {
        send("message_start", { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: message.usage.input_tokens, output_tokens: 1 } } });
        for (const [index, block] of (message.content as Array<{ type: string; [k: string]: unknown }>).entries()) {
          if (block.type === "text") {
            send("content_block_start", { index, content_block: { type: "text", text: "" } });
            for (const [i, text] of (index === 0 ? pieces : [String(block.text)]).entries()) {
              if (i > 0 && delayMs) await Bun.sleep(delayMs);
              send("content_block_delta", { index, delta: { type: "text_delta", text } });
            }
          } else {
            send("content_block_start", { index, content_block: { ...block, input: {} } });
            send("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) } });
          }
          send("content_block_stop", { index });
        }
        send("message_delta", { delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: message.usage.output_tokens } });
        send("message_stop", {});
        ctl.close();
      } catch {
        // The client went away mid-stream (a killed bot): nothing more to send.
      }
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
}

function apiError(status: number, type: string, message: string): Response {
  return Response.json({ type: "error", error: { type, message } }, { status });
}
