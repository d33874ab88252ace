// http mode: Slack's Events API, slash commands and interactivity over POST /slack/events.
// A request whose signature does not verify is refused with 401 and nothing is processed.
// Retries (X-Slack-Retry-Num) need no special case: the inbound key dedupes them.
import type { Logger } from "../core/logger.ts";
import { verifySlackSignature } from "./signature.ts";

export type Deliver = (type: string, payload: Record<string, unknown>, ack: () => void) => boolean;

export function slackEventsHandler(o: { signingSecret: string; log: Logger; now(): number; deliver: Deliver }) {
  return async (req: Request): Promise<Response> => {
    const body = await req.text();
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
        if (payload.type === "url_verification") return Response.json({ challenge: payload.challenge });
        type = "events_api";
      } else {
        const form = new URLSearchParams(body);
        const interactive = form.get("payload");
        if (interactive) {
          payload = JSON.parse(interactive);
          type = "interactive";
        } else {
          payload = Object.fromEntries(form);
          type = "slash_commands";
        }
      }
    } catch {
      return new Response("malformed body\n", { status: 400 });
    }
    const recorded = o.deliver(type, payload, () => {});
    // 500 makes Slack retry an event we could not record, instead of losing it.
    return recorded ? new Response("", { status: 200 }) : new Response("not recorded\n", { status: 500 });
  };
}
