// After a reconnect or a restart: messages addressed to the bot that arrived while it was
// away (DMs, and mentions in its conversations) are fetched and go through the same door
// as live events, so the dedupe key makes each one answered once.
import type { Logger } from "./logger.ts";
import type { HistoryMessage, SlackPort } from "./slack-port.ts";

/** The contract: at most 1 hour back. */
export const CATCHUP_WINDOW_MS = 60 * 60 * 1000;

export interface CatchupOptions {
  slack: SlackPort;
  log: Logger;
  now(): number;
  botUserId(): string | undefined;
  deliver(type: "events_api", payload: Record<string, unknown>): void;
}

export async function catchUp(o: CatchupOptions): Promise<number> {
  const me = o.botUserId();
  if (!me) return 0;
  const oldest = ((o.now() - CATCHUP_WINDOW_MS) / 1000).toFixed(6);
  let found = 0;
  for (const conv of await o.slack.conversations()) {
    const msgs = await o.slack.history(conv.id, oldest, 200);
    for (const m of msgs) {
      if (!addressedToMe(m, conv.isIm, me)) continue;
      found++;
      o.deliver("events_api", synthetic(conv.id, conv.isIm, m));
    }
  }
  if (found) o.log.info(`catch-up: ${found} messages from while clawdbot was away checked`);
  return found;
}

function addressedToMe(m: HistoryMessage, isIm: boolean, me: string): boolean {
  if (m.subtype || m.bot_id || m.user === me || !m.user) return false;
  return isIm || (m.text ?? "").includes(`<@${me}`);
}

/** An event_callback as Slack would have delivered it live. */
function synthetic(channel: string, isIm: boolean, m: HistoryMessage): Record<string, unknown> {
  return {
    type: "event_callback",
    event_id: `catchup:${channel}:${m.ts}`,
    event: {
      type: isIm ? "message" : "app_mention",
      channel,
      channel_type: isIm ? "im" : "channel",
      user: m.user,
      text: m.text ?? "",
      ts: m.ts,
      thread_ts: m.thread_ts,
    },
  };
}
