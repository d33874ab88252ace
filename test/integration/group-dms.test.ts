// Group DMs (mpim) and private channels as Slack sends them: mentions answered with their
// thread as context, catch-up that survives a scope the app lacks, and a heartbeat canary that
// works in a private channel (message.groups subscribed).
import { afterEach, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;
let dirs: string[] = [];
afterEach(async () => {
  await bot?.stop();
  await emu?.stop();
  for (const d of dirs) cleanup(d);
  emu = bot = undefined;
  dirs = [];
});

const dir = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};

test.skipIf(process.platform === "win32")("a mention in a group DM is answered in its thread, with the thread so far as context", async () => {
  emu = await startEmulator();
  const e = emu;
  const d = dir();
  bot = await startBot(e, { CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: `cat > '${d}'/in-$$.json; echo answered $$` }, d);
  const g = e.mpimChannel(["UANNA", "UBEN"]);
  const first = e.mention("UANNA", g, "what do you think?");
  await waitFor(() => e.botMessages(g).find((m) => m.thread_ts === first.ts), "answer in the thread");
  e.channelMessage("UBEN", g, "I think it is the disk", { threadTs: first.ts });
  e.mention("UANNA", g, "and you?", { threadTs: first.ts });
  await waitFor(() => e.botMessages(g).filter((m) => m.thread_ts === first.ts).length === 2, "second answer");
  const inputs = readdirSync(d)
    .filter((f) => /^in-\d+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(d, f), "utf8")) as { text: string; context: { role: string; text: string }[] });
  const second = inputs.find((i) => i.text === "and you?");
  expect(second?.context.map((c) => c.text)).toEqual(["what do you think?", expect.stringContaining("answered"), "I think it is the disk"]);
});

test("catch-up without mpim:history: one warning, and no failed run however often it runs", async () => {
  emu = await startEmulator();
  const e = emu;
  bot = await startBot(e, {}, dir());
  const b = bot;
  const g = e.mpimChannel(["UANNA", "UBEN"]);
  e.mention("UANNA", g, "hi");
  await waitFor(() => e.botMessages(g).length === 1, "answered");
  e.revokeScopes("mpim:history");
  // Three reconnects, three catch-up runs over a store that knows the group DM.
  for (let i = 0; i < 3; i++) {
    const runs = (await b.rt.snapshot()).workers.catchup?.runs ?? 0;
    e.dropSockets();
    await waitFor(async () => ((await b.rt.snapshot()).workers.catchup?.runs ?? 0) > runs, `catch-up run ${i + 1}`);
  }
  const s = await b.rt.snapshot();
  expect(s.workers.catchup?.failures).toBe(0);
  expect(s.status).toBe("ok");
  const warned = (await b.rt.store.logs.tail(500)).filter((l) => l.level === "warn" && l.msg.includes("missing_scope"));
  expect(warned).toHaveLength(1);
});

test("a heartbeat canary in a private channel comes back: the connection is not replaced as deaf", async () => {
  emu = await startEmulator();
  const e = emu;
  e.addChannel("GHEARTBT", { kind: "private", name: "ops-private", botMember: true });
  bot = await startBot(e, { CLAWDBOT_HEARTBEAT_CHANNEL: "GHEARTBT", CLAWDBOT_HEARTBEAT_INTERVAL: "0.1", CLAWDBOT_CANARY_TIMEOUT: "0.3" }, dir());
  const b = bot;
  await waitFor(() => e.botMessages("GHEARTBT").length >= 5, "five heartbeats");
  await waitFor(async () => (await b.rt.snapshot()).canary === "ok", "a canary back");
  expect((await b.rt.snapshot()).status).toBe("ok");
  expect(e.connectionLog).toHaveLength(1);
});
