// The walking skeleton, end to end with the compiled executable: it answers a DM, a
// mention (in thread) and /claw; health exit codes; state dump while running; the kill
// switch survives a restart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { botEnv, type BotProcess, cleanup, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

/** The keys of GET /health that ../shared/CONTRACT.md ("Health") promises. */
const HEALTH_KEYS = [
  "status", "instance", "store", "cluster_instances", "uptime_s", "last_event_ago_s", "connected", "reconnects", "paused",
  "pending_approvals", "pending_exec", "outbox_pending", "outbox_failed", "relay_failures", "version",
];

const ADMIN = "UADMIN";
let emu: SlackEmulator;
const dir = tempDir();
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startEmulator();
  emu.addChannel("CGENERAL", { name: "general", botMember: true });
  env = botEnv(emu, dir, { CLAWDBOT_APPROVERS: ADMIN });
});
afterAll(async () => {
  await emu.stop();
  cleanup(dir);
});

async function start(): Promise<{ bot: BotProcess; url: string }> {
  const bot = await spawnBot(["run"], env);
  const port = await bot.healthPort();
  await waitFor(() => emu.openConnections() === 1, "the bot's socket");
  return { bot, url: `http://127.0.0.1:${port}/health` };
}

async function health(url: string): Promise<{ code: number; out: string }> {
  const p = await spawnBot(["health", "--url", url], {});
  const code = await p.exited;
  return { code, out: p.output().trim() };
}

const replyTo = (text: string) => emu.botMessages().find((m) => m.text.includes(text));

describe("clawdbot run (compiled) against the emulator", () => {
  test("answers a DM, a mention in its thread, and /claw; health, state dump, kill switch", async () => {
    const { bot, url } = await start();

    const dm = emu.dm("UALICE", "hello from a DM");
    const dmReply = await waitFor(() => replyTo("hello from a DM"), "DM reply");
    expect(dmReply.channel).toBe(dm.channel);

    const mention = emu.mention("UALICE", "CGENERAL", "question in a channel");
    const mReply = await waitFor(() => replyTo("question in a channel"), "mention reply");
    expect(mReply.channel).toBe("CGENERAL");
    expect(mReply.thread_ts).toBe(mention.ts);

    emu.slash("UALICE", "CGENERAL", "what time is it");
    await waitFor(() => replyTo("what time is it"), "/claw reply");

    // Each answered once.
    for (const t of ["hello from a DM", "question in a channel", "what time is it"]) {
      expect(emu.botMessages().filter((m) => m.text.includes(t))).toHaveLength(1);
    }

    const ok = await health(url);
    expect(ok.code).toBe(0);
    expect(ok.out.startsWith("OK")).toBe(true);

    // GET /health: every key the contract names, 200 while ok.
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const h = await res.json();
    for (const k of HEALTH_KEYS) expect(h).toHaveProperty(k);
    expect(h).toMatchObject({ status: "ok", store: "sqlite", cluster_instances: 1, connected: true, paused: false });

    // state dump while run is running: the contract's keys.
    const dump = await spawnBot(["state", "dump", "--json", "--db", join(dir, "clawdbot.db")], {});
    expect(await dump.exited).toBe(0);
    const state = JSON.parse(dump.output());
    for (const k of ["paused", "approvals", "outbox", "usage", "events", "instances"]) expect(state).toHaveProperty(k);
    expect(Object.keys(state.instances[0] ?? {}).sort()).toEqual(expect.arrayContaining(["alive", "host", "id", "last_seen_at", "started_at"]));
    expect(state.paused).toBe(false);
    expect(state.events.answered).toBeGreaterThanOrEqual(3);
    expect(state.outbox).toMatchObject({ pending: expect.any(Number), failed: 0, sent: expect.any(Number) });

    // Kill switch: only admins; persisted.
    emu.slash("UALICE", "CGENERAL", "pause");
    await waitFor(() => emu.calls.find((c) => c.method === "response_url" && JSON.stringify(c.args).includes("Only admins")), "refusal");
    emu.slash(ADMIN, "CGENERAL", "pause");
    await waitFor(() => emu.messages().find((m) => m.text.includes("Paused by")), "pause notice");

    bot.proc.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    const down = await health(url);
    expect(down.code).toBe(2);
    expect(down.out.startsWith("CRIT")).toBe(true);

    const again = await start();
    emu.dm("UBOB", "are you there after the restart");
    await waitFor(() => emu.botMessages().find((m) => m.text.includes("paused")), "paused notice after restart");
    expect(replyTo("are you there after the restart")).toBeUndefined();
    again.bot.proc.kill("SIGTERM");
    expect(await again.bot.exited).toBe(0);
  });

  test("clawdbot health exits 1 while the bot cannot connect (healing itself)", async () => {
    emu.failConnectionsOpen("forever", "http500");
    const bot = await spawnBot(["run"], { ...env, CLAWDBOT_DATA_DIR: tempDir() });
    const port = await bot.healthPort();
    const url = `http://127.0.0.1:${port}/health`;
    const r = await waitFor(async () => {
      const h = await health(url);
      return h.code === 1 ? h : null;
    }, "health exit 1");
    expect(r.out).toMatch(/^WARN: (starting|disconnected)/);
    bot.proc.kill("SIGTERM");
    expect(await bot.exited).toBe(0);
    emu.clearFaults();
    emu.failConnectionsOpen(0);
  });
});
