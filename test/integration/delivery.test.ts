// Nothing lost, nothing twice: rate limits per channel, transient and permanent errors,
// redeliveries, duplicate suppression, catch-up after downtime, usage accounting.
import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { runCommand } from "citty";
import { CliExit } from "../../src/cli/exit.ts";
import replayCmd from "../../src/cli/replay.ts";
import stateCmd from "../../src/cli/state.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { storeLocation } from "../../src/store/index.ts";
import { botEnv, cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator;
let dir: string;
let bot: InProcessBot | null;


beforeEach(async () => {
  emu = await startEmulator();
  emu.addChannel("CGENERAL", { name: "general", botMember: true });
  emu.addChannel("CRANDOM", { name: "random", botMember: true });
  dir = tempDir();
  bot = null;
});
afterEach(async () => {
  await bot?.stop();
  await emu.stop();
  cleanup(dir);
});

async function start(extra: Record<string, string> = {}): Promise<InProcessBot> {
  bot = await startBot(emu, extra, dir);
  await waitFor(() => emu.openConnections() === 1, "the bot's socket");
  return bot;
}

const repliesTo = (text: string, channel?: string) => emu.botMessages(channel).filter((m) => m.text.includes(text));
const replyTo = (text: string, channel?: string) => repliesTo(text, channel)[0];

/** Answers to a fresh marker DM: everything sent before it has had its chance to be sent twice. */
async function settle(tag: string): Promise<void> {
  emu.dm("UMARK", `marker ${tag}`);
  await waitFor(() => replyTo(`marker ${tag}`), `reply to marker ${tag}`);
}

/** Runs a CLI command in-process with `env` as the environment; stdout and exit code. */
async function cli(cmd: "replay" | "state", rawArgs: string[], env: Record<string, string> = {}): Promise<{ out: string; code: number }> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const lines: string[] = [];
  const log = spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
  try {
    if (cmd === "replay") await runCommand(replayCmd, { rawArgs });
    else await runCommand(stateCmd, { rawArgs });
    return { out: lines.join("\n"), code: 0 };
  } catch (err) {
    if (!(err instanceof CliExit)) throw err;
    return { out: lines.join("\n"), code: err.exitCode };
  } finally {
    log.mockRestore();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe("outbox delivery", () => {
  test("a 429 in one channel delays that reply by Retry-After, once; another channel is not held up", async () => {
    await start();
    emu.fault("chat.postMessage", { status: 429, retryAfter: 1, times: 1, channel: "CGENERAL" });
    const t0 = Date.now();
    emu.mention("UALICE", "CGENERAL", "limited one");
    // The 429 has happened before the other channel's message is sent.
    await waitFor(() => emu.calls.some((c) => c.method === "chat.postMessage"), "the rate-limited call");
    const t429 = Date.now();
    emu.mention("UBOB", "CRANDOM", "free one");
    await waitFor(() => replyTo("free one", "CRANDOM"), "the other channel's reply");
    const tFree = Date.now();
    expect(replyTo("limited one", "CGENERAL")).toBeUndefined();
    await waitFor(() => replyTo("limited one", "CGENERAL"), "the rate-limited reply", 10_000);
    const tLimited = Date.now();
    expect(tFree - t429).toBeLessThan(1000); // inside the other channel's Retry-After
    expect(tLimited - t0).toBeGreaterThanOrEqual(950);
    await settle("429");
    expect(repliesTo("limited one")).toHaveLength(1);
    expect(repliesTo("free one")).toHaveLength(1);
  });

  test("a 5xx then success gives one message", async () => {
    await start();
    emu.fault("chat.postMessage", { status: 503, times: 1 });
    emu.dm("UALICE", "through a 503");
    await waitFor(() => replyTo("through a 503"), "reply after the 503");
    await settle("5xx");
    expect(repliesTo("through a 503")).toHaveLength(1);
    expect((await bot?.rt.snapshot())?.outbox_failed).toBe(0);
  });

  test("channel_not_found is kept as failed with its reason; replay delivers it after the fix", async () => {
    const b = await start();
    emu.fault("chat.postMessage", { error: "channel_not_found", channel: "CGENERAL" });
    emu.mention("UALICE", "CGENERAL", "lost channel");
    await waitFor(async () => (await b.rt.snapshot()).outbox_failed === 1, "outbox_failed = 1");
    const failed = (await b.rt.store.outbox.undelivered()).find((r) => r.status === "failed");
    expect(failed?.lastError).toBe("channel_not_found");

    const env = botEnv(emu, dir);
    const dry = await cli("replay", ["--dry-run", "--json"], env);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.out) as { dry_run: boolean; items: { type: string; id: string; last_error: string }[] };
    expect(plan.dry_run).toBe(true);
    expect(plan.items).toEqual([expect.objectContaining({ type: "outbox", id: String(failed?.id), last_error: "channel_not_found" })]);
    expect(replyTo("lost channel")).toBeUndefined();

    // Still broken: replay keeps it failed and says so.
    expect((await cli("replay", ["--id", String(failed?.id)], env)).code).toBe(1);

    emu.clearFaults();
    const r = await cli("replay", ["--json"], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ delivered: 1, not_delivered: [] });
    await settle("replay");
    expect(repliesTo("lost channel", "CGENERAL")).toHaveLength(1);
    expect((await b.rt.snapshot()).outbox_failed).toBe(0);
    // Nothing left (once the bot has recorded the marker's reply as sent): a second replay has nothing to do.
    await waitFor(async () => (await b.rt.snapshot()).outbox_pending === 0, "outbox settled");
    expect((await cli("replay", [], env)).out).toContain("nothing to deliver");
  });

  test("the same event delivered 3 times (retry_attempt 0, 1, 2) is answered once", async () => {
    await start();
    const d = emu.dm("UALICE", "say it thrice");
    emu.redeliver(d.envelope_id);
    emu.redeliver(d.envelope_id);
    const ev = emu.sendEvent({ type: "app_mention", channel: "CGENERAL", user: "UBOB", text: "<@UBOT> event thrice", ts: "1700000000.000100" }, { duplicates: 3 });
    expect(emu.envelopes.filter((e) => e.envelope_id === ev.envelope_id).length).toBeGreaterThan(0);
    await waitFor(() => replyTo("say it thrice") && replyTo("event thrice"), "both replies");
    await settle("dups");
    expect(repliesTo("say it thrice")).toHaveLength(1);
    expect(repliesTo("event thrice")).toHaveLength(1);
  });

  test("the same reply to the same conversation within 5 minutes is suppressed and recorded", async () => {
    const b = await start();
    emu.dm("UALICE", "same words");
    await waitFor(() => replyTo("same words"), "first reply");
    emu.dm("UALICE", "same words");
    await waitFor(async () => (await b.rt.store.outbox.counts()).suppressed === 1, "a suppressed row");
    await settle("suppress");
    expect(repliesTo("same words")).toHaveLength(1);
    // Another conversation gets its own answer.
    emu.dm("UBOB", "same words");
    await waitFor(() => repliesTo("same words").length === 2, "the other conversation's reply");
  });
});

describe("catch-up", () => {
  test("a DM and a mention sent while the bot was stopped are answered once after it starts", async () => {
    const first = await start();
    emu.dm("UALICE", "before the stop");
    await waitFor(() => replyTo("before the stop"), "first reply");
    // Catch-up covers conversations the bot took part in: it has in CGENERAL now.
    emu.mention("UBOB", "CGENERAL", "hello before the stop");
    await waitFor(() => replyTo("hello before the stop", "CGENERAL"), "first mention reply");
    await first.stop();
    bot = null;
    await waitFor(() => emu.openConnections() === 0, "socket closed");
    // Events sent while away are never delivered live: only conversations.history finds them.
    emu.deafen(true);
    emu.dm("UALICE", "while you were out");
    emu.mention("UBOB", "CGENERAL", "mention while out");
    await start();
    await waitFor(() => replyTo("while you were out") && replyTo("mention while out", "CGENERAL"), "catch-up replies");
    const mention = replyTo("mention while out", "CGENERAL");
    expect(mention?.thread_ts).toBeDefined();
    // The live deliveries arrive late: they are the same messages, not answered again.
    emu.deafen(false);
    await settle("catchup");
    expect(repliesTo("while you were out")).toHaveLength(1);
    expect(repliesTo("mention while out")).toHaveLength(1);
  });
});

describe("catch-up with a new data dir", () => {
  test("conversations the bot never took part in (by its store) are not caught up: nothing answered twice", async () => {
    const first = await start();
    emu.dm("UALICE", "answered by the old install");
    await waitFor(() => replyTo("answered by the old install"), "reply");
    await first.stop();
    bot = null;
    // A fresh install on a new data dir: the last hour's DMs were answered by the old one.
    dir = tempDir();
    const fresh = await start();
    await waitFor(async () => ((await fresh.rt.snapshot()).workers.catchup?.runs ?? 0) >= 1, "the catch-up to run");
    await settle("catchup");
    expect(repliesTo("answered by the old install")).toHaveLength(1);
  });
});

describe("usage", () => {
  test("token usage of every command-agent call is summed in state dump", async () => {
    const reply = JSON.stringify({ reply: "counted", usage: { model: "tiny-1", input_tokens: 11, output_tokens: 7 } });
    const b = await start({ CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: `echo '${reply}'` });
    emu.dm("UALICE", "one");
    emu.dm("UBOB", "two");
    emu.dm("UCAROL", "three");
    await waitFor(() => emu.botMessages().filter((m) => m.text.includes("counted")).length === 3, "three replies");
    const dump = await cli("state", ["dump", "--json", "--db", storeLocation({ dataDir: b.dataDir })]);
    expect(dump.code).toBe(0);
    const usage = (JSON.parse(dump.out) as { usage: { provider: string; model: string; calls: number; input_tokens: number; output_tokens: number }[] }).usage;
    expect(usage).toEqual([expect.objectContaining({ model: "tiny-1", calls: 3, input_tokens: 33, output_tokens: 21 })]);
  });
});
