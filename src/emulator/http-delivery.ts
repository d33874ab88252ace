// HTTP mode delivery: POSTs to the bot's request URL, signed like Slack signs
// (v0=HMAC-SHA256(secret, "v0:{ts}:{body}")). A 2xx within the timeout is the ack.
import { createHmac } from "node:crypto";
import type { DeliveryRoute } from "./delivery.ts";
import type { Envelope, EnvelopeType } from "./types.ts";

export function signRequest(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

export interface HttpDeliveryHooks {
  onAck(envelopeId: string, payload: unknown): void;
  onFailure(envelopeId: string, reason: string): void;
}

/** The body and content type Slack uses for each kind of request. */
export function encodeBody(env: Pick<Envelope, "type" | "payload">): { body: string; contentType: string } {
  if (env.type === "events_api") return { body: JSON.stringify(env.payload), contentType: "application/json" };
  if (env.type === "slash_commands") {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(env.payload)) form.set(k, String(v));
    return { body: form.toString(), contentType: "application/x-www-form-urlencoded" };
  }
  const form = new URLSearchParams({ payload: JSON.stringify(env.payload) });
  return { body: form.toString(), contentType: "application/x-www-form-urlencoded" };
}

export async function signedPost(
  url: string,
  secret: string,
  body: string,
  contentType: string,
  timeoutMs: number,
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  const ts = Math.floor(Date.now() / 1000);
  return fetch(url, {
    method: "POST",
    body,
    headers: {
      "Content-Type": contentType,
      "X-Slack-Request-Timestamp": String(ts),
      "X-Slack-Signature": signRequest(secret, ts, body),
      "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
      ...extraHeaders,
    },
    signal: AbortSignal.timeout(timeoutMs),
  });
}

export class HttpDeliveryRoute implements DeliveryRoute {
  /** Last status (or error) per attempt, for tests. */
  readonly results: { envelope_id: string; retry_attempt: number; status: number | string }[] = [];

  constructor(
    readonly url: string,
    private readonly secret: string,
    private readonly timeoutMs: number,
    private readonly hooks: HttpDeliveryHooks,
  ) {}

  /** Slack retries Events API requests only; a failed slash command or click is just an error to the user. */
  retries(type: EnvelopeType): boolean {
    return type === "events_api";
  }

  send(env: Envelope): string | undefined {
    const { body, contentType } = encodeBody(env);
    const headers: Record<string, string> = {};
    if (env.retry_attempt > 0) {
      headers["X-Slack-Retry-Num"] = String(env.retry_attempt);
      headers["X-Slack-Retry-Reason"] = env.retry_reason === "timeout" ? "http_timeout" : env.retry_reason;
    }
    void signedPost(this.url, this.secret, body, contentType, this.timeoutMs, headers).then(
      async (res) => {
        this.results.push({ envelope_id: env.envelope_id, retry_attempt: env.retry_attempt, status: res.status });
        if (res.status >= 200 && res.status < 300) {
          const text = await res.text().catch(() => "");
          let payload: unknown;
          try {
            payload = text ? JSON.parse(text) : undefined;
          } catch {
            payload = text ? { text } : undefined;
          }
          this.hooks.onAck(env.envelope_id, payload);
        } else {
          this.hooks.onFailure(env.envelope_id, "http_error");
        }
      },
      (err: unknown) => {
        const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
        this.results.push({ envelope_id: env.envelope_id, retry_attempt: env.retry_attempt, status: String(err) });
        this.hooks.onFailure(env.envelope_id, timedOut ? "http_timeout" : "http_error");
      },
    );
    return "http";
  }
}
