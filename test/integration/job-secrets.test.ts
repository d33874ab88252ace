// The compiled binary against the emulator: an approved job can read the bot's secrets neither
// from its environment (`env`) nor, usefully, from a file: what it prints is redacted before it
// is posted, uploaded or stored.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { type BotProcess, botEnv, cleanup, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, STRANGER, threadReplies, unescapeSlack, waitCard } from "./approvals-helpers.ts";

const CH = "CJOBS";
const BOT_TOKEN = "xoxb-4242-jobsec-bottoken";
const SIGNING_SECRET = "5f9c0d7e1b2a43c8a9e6f0d1c2b3a4e5";
const API_KEY = "plain-api-key-0123456789"; // no sk-ant- prefix: only the configured value can catch it
const RELAY_PASSWORD = "relay-pass-7788";
const API_PASSWORD = "base-pass-9911";
const SECRETS = [BOT_TOKEN, SIGNING_SECRET, API_KEY, RELAY_PASSWORD, API_PASSWORD];

let emu: SlackEmulator | undefined;
let bot: BotProcess | undefined;
const dirs: string[] = [];

afterEach(async () => {
  if (bot && bot.proc.exitCode === null) bot.proc.kill("SIGKILL");
  await bot?.exited;
  bot = undefined;
  await emu?.stop();
  emu = undefined;
  for (const d of dirs.splice(0)) cleanup(d);
});

async function start(): Promise<{ e: SlackEmulator; dir: string }> {
  const e = await startEmulator({ botToken: BOT_TOKEN });
  emu = e;
  e.addChannel(CH, { botMember: true });
  const dir = tempDir();
  dirs.push(dir);
  const env = botEnv(e, dir, {
    CLAWDBOT_APPROVERS: APPROVER,
    CLAWDBOT_EXEC_CWD: dir,
    CLAWDBOT_AGENT: "echo",
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    ANTHROPIC_API_KEY: API_KEY,
    ANTHROPIC_BASE_URL: `http://clawdbot:${API_PASSWORD}@127.0.0.1:9/`,
    // Nothing listens there: the relay is configured, not needed by /claw.
    CLAWDBOT_RELAY_URL: `http://clawdbot:${RELAY_PASSWORD}@127.0.0.1:9/`,
  });
  bot = await spawnBot(["run"], env);
  await bot.healthPort();
  await e.waitFor(() => e.openConnections() > 0 || undefined, { what: "connected", timeoutMs: 20_000 });
  return { e, dir };
}

/** `/claw exec <command>`, approved; the thread's text once the result is there. */
async function runApproved(e: SlackEmulator, command: string): Promise<{ id: string; text: string }> {
  e.slash(STRANGER, CH, `exec ${command}`);
  const { card, id } = await waitCard(e, CH);
  e.click(APPROVER, CH, card.ts, "approval_approve", id);
  const reply = await waitFor(() => threadReplies(e, CH, card.ts).find((m) => /exit \d+/.test(m.text)), "the job's result", 20_000);
  return { id, text: unescapeSlack(reply.text) };
}

function storedOutput(dir: string, id: string): string {
  const db = new Database(join(dir, "clawdbot.db"), { readonly: true });
  try {
    return db.query<{ output: string | null }, [string]>("SELECT output FROM approvals WHERE id = ?").get(id)?.output ?? "";
  } finally {
    db.close();
  }
}

describe.skipIf(process.platform === "win32")("a job and the bot's secrets (compiled binary)", () => {
  test("`/claw exec env` posts no CLAWDBOT_RELAY_URL, ANTHROPIC_BASE_URL, token or password", async () => {
    const { e } = await start();
    const { text } = await runApproved(e, "env");
    expect(text).toContain("exit 0");
    expect(text).toContain("PATH=");
    for (const name of ["CLAWDBOT_", "SLACK_", "ANTHROPIC_"]) expect(text).not.toContain(name);
    for (const s of SECRETS) expect(text).not.toContain(s);
  }, 60_000);

  test("a job that cats an env file and an environ-like file posts, uploads and stores only redacted text", async () => {
    const { e, dir } = await start();
    writeFileSync(
      join(dir, "bot.env"),
      `SLACK_BOT_TOKEN=${BOT_TOKEN}\nSLACK_SIGNING_SECRET=${SIGNING_SECRET}\nANTHROPIC_API_KEY=${API_KEY}\n`,
    );
    // /proc/<pid>/environ: NUL-separated, the URL passwords inside URLs.
    const environ = [`CLAWDBOT_RELAY_URL=http://clawdbot:${RELAY_PASSWORD}@relay.example/`, `ANTHROPIC_BASE_URL=http://x:${API_PASSWORD}@api.example/`, `SLACK_SIGNING_SECRET=${SIGNING_SECRET}`];
    writeFileSync(join(dir, "environ"), `${environ.join("\0")}\0`);
    // Over 3000 characters, so the whole output is also uploaded as a file.
    const { id, text } = await runApproved(e, "cat bot.env environ; i=0; while [ $i -lt 80 ]; do echo padding-line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; cat bot.env");
    const file = await waitFor(() => e.files.find((f) => f.completed && f.name === `${id}-output.txt`), "the uploaded output", 20_000);
    const uploaded = new TextDecoder().decode(file.content);
    expect(uploaded).toContain("SLACK_BOT_TOKEN=[redacted]");
    expect(uploaded).toContain("SLACK_SIGNING_SECRET=[redacted]");
    expect(uploaded).toContain("CLAWDBOT_RELAY_URL=http://clawdbot:[redacted]@relay.example/");
    const stored = storedOutput(dir, id);
    expect(stored).toContain("ANTHROPIC_API_KEY=[redacted]");
    const posted = e.botMessages(CH).map((m) => m.text).join("\n");
    expect(posted).toContain("SLACK_BOT_TOKEN=[redacted]");
    for (const s of SECRETS) {
      expect(text).not.toContain(s);
      expect(posted).not.toContain(s);
      expect(uploaded).not.toContain(s);
      expect(stored).not.toContain(s);
    }
  }, 60_000);
});
