// The relay, when one is set: POST {url}/context answers in time with {messages: [...]}.
// Only /context is called (it reads); nothing is recorded with /log.
import { memoryLogger } from "../../core/logger.ts";
import { RelayClient } from "../../relay/client.ts";
import { type Check, fail, pass } from "../types.ts";

const NAME = "relay";

/** Harmless: a question about a conversation that does not exist. */
const PROBE = { channel: "D0DOCTOR", thread_ts: null, user: "U0DOCTOR", text: "clawdbot doctor: checking the relay" };

export const relayCheck: Check = {
  name: NAME,
  needs: ["CLAWDBOT_RELAY_URL", "RELAY_URL", "CLAWDBOT_RELAY_TIMEOUT_MS"],
  async run(ctx) {
    const { relayUrl, tuning } = ctx.config;
    if (!relayUrl) return [pass(NAME, "not set: the agent gets no conversation context from a relay")];
    const timeoutMs = Math.min(ctx.timeoutMs, tuning.relayTimeoutMs);
    const client = new RelayClient({ url: relayUrl, log: memoryLogger(), timeoutMs, attempts: 1 });
    const messages = await client.context(PROBE);
    const url = `${relayUrl.replace(/\/+$/, "")}/context`;
    if (client.failures > 0) {
      const why = (client.lastError ?? "failed").replace(/^\/context: /, "");
      return [fail(NAME, `POST ${url} failed: ${why}`, "check CLAWDBOT_RELAY_URL and that the relay is running; meanwhile the bot answers without context")];
    }
    return [pass(NAME, `POST ${url} answered (${messages.length} context messages)`)];
  },
};
