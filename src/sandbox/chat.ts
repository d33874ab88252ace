// `clawdbot sandbox`: the real core against the built-in Slack emulator, with a terminal
// chat. A typed line is a DM to the bot; `/claw ...` is the slash command; cards can be
// approved with `/approve [id]` or denied with `/deny [id]` (no id: the newest open card).
// No Slack tokens needed.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../config.ts";
import { SlackEmulator, unescapeText } from "../emulator/index.ts";
import { startRuntime } from "../runtime.ts";

const YOU = "USANDBOX";
const CHANNEL = "CSANDBOX";

export async function runSandbox(): Promise<void> {
  const emu = new SlackEmulator({ pingIntervalMs: 5000 });
  await emu.start();
  emu.addUser(YOU, { name: "you" });
  emu.addChannel(CHANNEL, { name: "sandbox", members: [YOU], botMember: true });
  const dataDir = process.env.CLAWDBOT_DATA_DIR ?? mkdtempSync(join(tmpdir(), "clawdbot-sandbox-"));
  const env: Record<string, string | undefined> = {
    ...process.env,
    SLACK_BOT_TOKEN: emu.options.botToken,
    SLACK_APP_TOKEN: emu.options.appToken,
    SLACK_API_URL: emu.apiUrl,
    CLAWDBOT_DATA_DIR: dataDir,
    CLAWDBOT_HEALTH_PORT: process.env.CLAWDBOT_HEALTH_PORT ?? "0",
    CLAWDBOT_APPROVERS: process.env.CLAWDBOT_APPROVERS ?? YOU,
    CLAWDBOT_MODE: "socket",
  };
  const rt = await startRuntime({ config: loadConfig(env), consoleLevel: 1 });
  const dm = emu.imChannel(YOU);
  const say = (s: string) => process.stdout.write(`${s}\n`);
  say(`clawdbot sandbox: you are ${YOU}, chatting with the bot in a DM. Data in ${dataDir}`);
  say(`health: http://127.0.0.1:${rt.healthPort}/health`);
  say("Type a message. /claw help, /claw exec <command>, /approve [id], /deny [id], /quit.");

  // Print what the bot says, new messages and card updates alike.
  const seen = new Map<string, string>();
  const show = setInterval(() => {
    for (const m of emu.messages()) {
      if (!m.bot_id && m.user !== emu.options.botUserId) continue;
      const key = `${m.channel}:${m.ts}`;
      const text = renderMessage(m);
      if (seen.get(key) === text) continue;
      const updated = seen.has(key);
      seen.set(key, text);
      say(`${updated ? "bot (updated)" : "bot"}${m.channel === dm ? "" : ` in #${m.channel}`}: ${text}`);
    }
  }, 50);

  for await (const line of stdinLines()) {
    const text = line.trim();
    if (!text) continue;
    if (text === "/quit" || text === "/exit") break;
    const decision = /^\/(approve|deny)(?:\s+(\S+))?$/.exec(text);
    if (decision) {
      const found = findCard(emu.messages(), decision[2]);
      if (!found) say(decision[2] ? `no card with id ${decision[2]}` : "no open card to decide on");
      else emu.click(YOU, found.card.channel, found.card.ts, decision[1] === "approve" ? "approval_approve" : "approval_deny", found.id);
      continue;
    }
    if (text.startsWith("/claw")) emu.slash(YOU, CHANNEL, text.slice(5).trim());
    else emu.dm(YOU, text);
  }
  // Let the last answers arrive before leaving.
  await Bun.sleep(300);
  clearInterval(show);
  await rt.stop();
  await emu.stop();
}

/** Lines from stdin; Bun.stdin works where node:readline fails (Windows pipes under Wine). */
async function* stdinLines(): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of Bun.stdin.stream()) {
    buf += decoder.decode(chunk, { stream: true });
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      yield buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      nl = buf.indexOf("\n");
    }
  }
  if (buf) yield buf;
}

type Shown = { channel: string; ts: string; text: string; blocks?: unknown[] };

/** The card with this approval id, or with no id the newest card that still has buttons. */
function findCard(messages: Shown[], id: string | undefined): { card: Shown; id: string } | undefined {
  for (const m of [...messages].reverse()) {
    const blocks = JSON.stringify(m.blocks ?? []);
    const cardId = /"value":"(ap_[a-z0-9]+)"/.exec(blocks)?.[1];
    if (cardId && (id ? cardId === id : blocks.includes("approval_approve"))) return { card: m, id: cardId };
  }
  return undefined;
}

function renderMessage(m: { text: string; blocks?: unknown[] }): string {
  const blocks = JSON.stringify(m.blocks ?? []);
  const id = /"value":"(ap_[a-z0-9]+)"/.exec(blocks)?.[1];
  // Slack shows escaped text unescaped; so does the terminal.
  const text = unescapeText(m.text);
  if (id) return `${text}\n    [card ${id}: /approve ${id} or /deny ${id}]`;
  // A decided card has no buttons: show its status line instead.
  const status = cardStatus(m.blocks);
  return status ? `${text}\n    [${unescapeText(status)}]` : text;
}

function cardStatus(blocks: unknown[] | undefined): string | undefined {
  for (const b of (blocks ?? []) as { type?: string; elements?: { text?: string }[] }[]) {
    if (b.type === "context") return b.elements?.[0]?.text;
  }
  return undefined;
}
