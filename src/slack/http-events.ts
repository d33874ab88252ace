// http mode: Slack's Events API, slash commands and interactivity over POST /slack/events.
// A request whose signature does not verify is refused with 401 and nothing is processed.
// Retries (X-Slack-Retry-Num) need no special case: the inbound key dedupes them.
import type { Logger } from "../core/logger.ts";
import { verifySlackSignature } from "./signature.ts";

/** Records the payload; true once it is recorded (then it may be acked). */
export type Deliver = (type: string, payload: Record<string, unknown>, ack: () => void) => boolean | Promise<boolean>;

/** Slack's payloads are a few KB (a modal's state a few hundred); anything near this is not Slack. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The raw body, or null past `max` bytes. Read in chunks and abandoned at the limit: the
 * signature can only be checked on the whole body, so an unsigned huge POST must not be
 * buffered first.
 */
export async function readBodyLimited(req: Request, max: number): Promise<string | null> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) return null;
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function slackEventsHandler(o: { signingSecret: string; log: Logger; now(): number; deliver: Deliver; maxBodyBytes?: number }) {
  const max = o.maxBodyBytes ?? MAX_BODY_BYTES;
  return async (req: Request): Promise<Response> => {
    const body = await readBodyLimited(req, max);
    if (body === null) {
      o.log.warn(`refused a request to /slack/events: body larger than ${max} bytes`);
      return new Response("payload too large\n", { status: 413 });
    }
    const check = verifySlackSignature({
      signingSecret: o.signingSecret,
      body,
      timestamp: req.headers.get("x-slack-request-timestamp"),
      signature: req.headers.get("x-slack-signature"),
      now: o.now(),
    });
    if (!check.ok) {
      o.log.warn(`refused a request to /slack/events: ${check.reason}`);
      return new Response("invalid signature\n", { status: 401 });
    }
    let type: string;
    let payload: Record<string, unknown>;
    try {
      if ((req.headers.get("content-type") ?? "").includes("application/json")) {
        payload = JSON.parse(body);
        if (typeof payload !== "object" || payload === null) throw new Error("not an object");
        if (payload.type === "url_verification") return Response.json({ challenge: payload.challenge });
        type = "events_api";
      } else {
        const form = new URLSearchParams(body);
        // Slack checks the certificate of a slash command URL with this; it is not a command.
        if (form.get("ssl_check") === "1") return new Response("", { status: 200 });
        const interactive = form.get("payload");
        if (interactive) {
          payload = JSON.parse(interactive);
          if (typeof payload !== "object" || payload === null) throw new Error("not an object");
          type = "interactive";
        } else {
          payload = Object.fromEntries(form);
          type = "slash_commands";
        }
      }
    } catch {
      return new Response("malformed body\n", { status: 400 });
    }
    let recorded: boolean;
    try {
      recorded = await o.deliver(type, payload, () => {});
    } catch (err) {
      o.log.error(`cannot take an inbound ${type}: ${String(err)}`);
      recorded = false;
    }
    // 500 makes Slack retry an event we could not record, instead of losing it.
    return recorded ? new Response("", { status: 200 }) : new Response("not recorded\n", { status: 500 });
  };
}
