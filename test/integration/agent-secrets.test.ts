// What reaches Slack, the store and the agent from outside the bot is redacted of every
// configured secret: an agent's error text (its stderr), and the conversation context
// (the Slack thread, or the relay's) given to the agent.
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { type RelayStandIn, startRelayStandIn } from "../stand-ins/relay.ts";

const BOT_TOKEN = "xoxb-4242-agentsec-bottoken";
const API_KEY = "plain-api-key-0123456789"; // no sk-ant- prefix: only the configured value can catch it
const RELAY_PASSWORD = "relay-pass-7788";
const SECRETS = [BOT_TOKEN, API_KEY, RELAY_PASSWORD];

let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;
let relay: RelayStandIn | undefined;
let dir: string | undefined;

afterEach(async () => {
  await bot?.stop();
  await emu?.stop();
  relay?.stop();
  if (dir) cleanup(dir);
  emu = bot = relay = dir = undefined;
});

async function start(extra: Record<string, string>): Promise<{ e: SlackEmulator; b: InProcessBot; d: string }> {
  const e = await startEmulator({ botToken: BOT_TOKEN });
  emu = e;
  const d = tempDir();
  dir = d;
  const b = await startBot(e, { CLAWDBOT_AGENT: "command", ANTHROPIC_API_KEY: API_KEY, ...extra }, d);
  bot = b;
  await waitFor(() => e.openConnections() === 1, "the bot's socket");
  return { e, b, d };
}

/** Everything the bot sent Slack: every Web API call's arguments and every response_url post. */
function sentToSlack(e: SlackEmulator): string {
  return JSON.stringify([e.calls.map((c) => c.args), e.responses.map((r) => r.body)]);
}

function storeText(d: string): string {
  const db = new Database(join(d, "clawdbot.db"), { readonly: true });
  try {
    const rows = [
      ...db.query("SELECT text, blocks, last_error FROM outbox").all(),
      ...db.query("SELECT payload, text, detail FROM events").all(),
      ...db.query("SELECT msg, fields FROM logs").all(),
    ];
    return JSON.stringify(rows);
  } finally {
    db.close();
  }
}

test("an agent failing with the bot token, the API key and <!channel> on stderr: Slack gets none of them", async () => {
  const agentDir = tempDir();
  try {
    const script = join(agentDir, "agent.sh");
    // As if the agent had read the bot's env file: its error quotes the secrets.
    writeFileSync(script, `cat >/dev/null\necho "auth failed: token ${BOT_TOKEN} key ${API_KEY} url http://bot:${RELAY_PASSWORD}@relay <!channel>" >&2\nexit 3\n`);
    const { e, b, d } = await start({ CLAWDBOT_AGENT_COMMAND: `sh ${script}` });
    e.dm("UALICE", "hello");
    const warning = await waitFor(() => e.botMessages().find((m) => m.text.includes("couldn't get an answer")), "the agent's error");
    await waitFor(async () => (await b.rt.snapshot()).outbox_pending === 0, "outbox drained");
    expect(warning.text).toContain("auth failed");
    expect(warning.text).toContain("[redacted]");
    // Shown as text: it pings nobody.
    expect(warning.text).not.toContain("<!channel>");
    expect(warning.text).toContain("&lt;!channel&gt;");
    const slack = sentToSlack(e);
    const stored = storeText(d);
    for (const s of SECRETS) {
      expect(slack).not.toContain(s);
      expect(stored).not.toContain(s);
    }
  } finally {
    cleanup(agentDir);
  }
});

test("a secret pasted in the thread reaches the agent redacted", async () => {
  // The command agent's reply is whatever the command prints: here, its own input.
  const { e } = await start({ CLAWDBOT_AGENT_COMMAND: "cat" });
  e.addChannel("CTHREAD", { botMember: true });
  const first = e.mention("UALICE", "CTHREAD", "first question");
  await waitFor(() => e.botMessages("CTHREAD").length === 1, "first answer");
  e.channelMessage("UBOB", "CTHREAD", `try with ${API_KEY} and ${BOT_TOKEN}`, { threadTs: first.ts });
  e.mention("UALICE", "CTHREAD", "follow up", { threadTs: first.ts });
  const second = await waitFor(() => e.botMessages("CTHREAD").find((m) => m.text.includes("follow up")), "second answer");
  const input = JSON.parse(second.text) as { context: { role: string; text: string }[] };
  const pasted = input.context.find((c) => c.text.startsWith("try with"));
  expect(pasted?.text).toBe("try with [redacted] and [redacted]");
  for (const s of SECRETS) expect(second.text).not.toContain(s);
});

test("a secret in the relay's context reaches the agent redacted", async () => {
  relay = startRelayStandIn({ mode: { mode: "ok", messages: [{ role: "user", text: `my key is ${API_KEY}, relay ${RELAY_PASSWORD}` }] } });
  const relayUrl = relay.url.replace("http://", `http://clawdbot:${RELAY_PASSWORD}@`);
  const { e } = await start({ CLAWDBOT_AGENT_COMMAND: "cat", CLAWDBOT_RELAY_URL: relayUrl });
  e.dm("UALICE", "what was my key?");
  const answer = await waitFor(() => e.botMessages().find((m) => m.text.includes("what was my key?")), "the answer");
  const input = JSON.parse(answer.text) as { context: { role: string; text: string }[] };
  expect(input.context[0]?.text).toBe("my key is [redacted], relay [redacted]");
});
