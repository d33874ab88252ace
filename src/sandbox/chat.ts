// `clawdbot sandbox`: the real core against the built-in Slack emulator, with a terminal
// chat. A typed line is a DM to the bot; `/claw ...` is the slash command; cards can be
// approved with `/approve [id]` or denied with `/deny [id]` (no id: the newest open card);
// `/file <path> [text]` shares a file from disk. No Slack tokens needed.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { loadConfig } from "../config.ts";
import { SlackEmulator } from "../emulator/index.ts";
import type { EmuFile } from "../emulator/types.ts";
import { startRuntime } from "../runtime.ts";
import { renderSlackText } from "./render.ts";

const YOU = "USANDBOX";
const CHANNEL = "CSANDBOX";

const PROMPT = "you> ";

export async function runSandbox(): Promise<void> {
  const emu = new SlackEmulator({ pingIntervalMs: 5000 });
  await emu.start();
  emu.addUser(YOU, { name: "you" });
  emu.addChannel(CHANNEL, { name: "sandbox", members: [YOU], botMember: true });
  // A data dir of our own is the sandbox's to remove on the way out (Ctrl+C included).
  const ownDir = !process.env.CLAWDBOT_DATA_DIR;
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
  const names = { [YOU]: "you", [emu.options.botUserId]: "clawdbot" };

  // The prompt stays the last thing on screen: a message arriving meanwhile is written over
  // it (on a terminal) or after it (in a pipe), and the prompt shown again.
  const tty = process.stdout.isTTY === true;
  let prompted = false;
  const prompt = () => {
    process.stdout.write(PROMPT);
    prompted = true;
  };
  const say = (s: string) => {
    if (prompted) process.stdout.write(tty ? "\r\u001b[K" : "\n");
    process.stdout.write(`${s}\n`);
    if (prompted) prompt();
  };
  say(`clawdbot sandbox: you are @you (${YOU}), chatting with the bot in a DM. Data in ${dataDir}${ownDir ? " (removed on exit)" : ""}`);
  say(`health: http://127.0.0.1:${rt.healthPort}/health`);
  say("Type a message. /claw help, /claw exec <command>, /approve [id], /deny [id], /file <path> [text], /quit (or Ctrl+C).");
  prompt();

  // Print what the bot says, new messages and card updates alike.
  const seen = new Map<string, string>();
  const show = setInterval(() => {
    for (const m of emu.messages()) {
      if (!m.bot_id && m.user !== emu.options.botUserId) continue;
      const key = `${m.channel}:${m.ts}`;
      const text = renderMessage(m, names, emu.files);
      if (seen.get(key) === text) continue;
      const updated = seen.has(key);
      seen.set(key, text);
      say(`${updated ? "bot (updated)" : "bot"}${m.channel === dm ? "" : ` in #${m.channel}`}: ${text}`);
    }
  }, 50);

  const input = stdinLines();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"] as const;
  let onSignal = () => {};
  const interrupted = new Promise<"quit">((resolve) => {
    onSignal = () => resolve("quit");
  });
  for (const sig of signals) process.on(sig, onSignal);
  try {
    for (;;) {
      const next = await Promise.race([input.next(), interrupted]);
      if (next === "quit" || next.done) break;
      prompted = false;
      const text = next.value.trim();
      if (text === "/quit" || text === "/exit") break;
      if (text) handle(text);
      prompt();
    }
    // Let the last answers arrive before leaving.
    await Bun.sleep(300);
  } finally {
    input.close();
    for (const sig of signals) process.off(sig, onSignal);
    clearInterval(show);
    if (prompted) process.stdout.write("\n");
    await rt.stop();
    await emu.stop();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  }

  function handle(text: string): void {
    const decision = /^\/(approve|deny)(?:\s+(\S+))?$/.exec(text);
    if (decision) {
      const found = findCard(emu.messages(), decision[2]);
      if (!found) say(decision[2] ? `no card with id ${decision[2]}` : "no open card to decide on");
      else emu.click(YOU, found.card.channel, found.card.ts, decision[1] === "approve" ? "approval_approve" : "approval_deny", found.id);
      return;
    }
    const share = /^\/file\s+(\S+)(?:\s+(.*))?$/.exec(text);
    if (share) {
      const path = share[1] as string;
      // A sandbox is for trying things: a file far bigger than anything the bot reads is refused here.
      if (!existsSync(path) || !statSync(path).isFile()) say(`no file ${path}`);
      else if (statSync(path).size > 20 * 1024 * 1024) say(`${path} is over 20 MB; share a smaller one`);
      else emu.dm(YOU, share[2] ?? "", { files: [{ name: basename(path), content: new Uint8Array(readFileSync(path)) }] });
      return;
    }
    if (text.startsWith("/claw")) emu.slash(YOU, CHANNEL, text.slice(5).trim());
    else emu.dm(YOU, text);
  }
}

/**
 * Lines from stdin; Bun.stdin works where node:readline fails (Windows pipes under Wine).
 * close() cancels the read, so a Ctrl+C does not leave the process waiting on stdin.
 */
function stdinLines(): { next(): Promise<IteratorResult<string>>; close(): void } {
  const reader = Bun.stdin.stream().getReader();
  const decoder = new TextDecoder();
  const ready: string[] = [];
  let buf = "";
  let ended = false;
  return {
    async next() {
      while (ready.length === 0 && !ended) {
        const { done, value } = await reader.read();
        if (done) {
          ended = true;
          if (buf) ready.push(buf);
          break;
        }
        buf += decoder.decode(value, { stream: true });
        const parts = buf.split("\n");
        buf = parts.pop() ?? "";
        ready.push(...parts.map((l) => l.replace(/\r$/, "")));
      }
      const line = ready.shift();
      return line === undefined ? { done: true, value: undefined } : { done: false, value: line };
    },
    close() {
      reader.cancel().catch(() => {});
    },
  };
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

function renderMessage(m: { text: string; blocks?: unknown[]; files?: string[] }, names: Record<string, string>, files: EmuFile[]): string {
  const blocks = JSON.stringify(m.blocks ?? []);
  const id = /"value":"(ap_[a-z0-9]+)"/.exec(blocks)?.[1];
  // What the Slack client would show: mentions by name, emoji, unescaped text, attached files.
  const attached = (m.files ?? []).flatMap((f) => files.filter((x) => x.id === f));
  const text = [renderSlackText(m.text, names), ...attached.map((f) => `    [file ${f.name}, ${f.content.byteLength} bytes]`)].filter(Boolean).join("\n");
  if (id) return `${text}\n    [card ${id}: /approve ${id} or /deny ${id}]`;
  // A decided card has no buttons: show its status line instead.
  const status = cardStatus(m.blocks);
  return status ? `${text}\n    [${renderSlackText(status, names)}]` : text;
}

function cardStatus(blocks: unknown[] | undefined): string | undefined {
  for (const b of (blocks ?? []) as { type?: string; elements?: { text?: string }[] }[]) {
    if (b.type === "context") return b.elements?.[0]?.text;
  }
  return undefined;
}
