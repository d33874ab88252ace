// The store unavailable: health says store_unavailable (503, `clawdbot health` exits 1), no
// instance exits, events that cannot be recorded are not acked, a /claw or a click meanwhile
// is told at once that nothing was done; once the store works again the messages that came
// meanwhile are answered, each once. PostgreSQL behind a TCP proxy (cut and restored); SQLite
// with its file locked by another process.
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NOT_RECORDED } from "../../src/core/receiver.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { type BotProcess, botEnv, cleanup, spawnBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { Cluster } from "../helpers/cluster.ts";
import { freshDatabase, serverPort, skipPostgres } from "../helpers/postgres.ts";
import { TcpProxy } from "../stand-ins/tcp-proxy.ts";

let emu: SlackEmulator | undefined;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await emu?.stop();
  emu = undefined;
});

const answers = (e: SlackEmulator, tag: string) => e.botMessages().filter((m) => m.text.includes(tag)).length;
const tag = (i: number) => `outagemsg-${String(i).padStart(2, "0")}-end`;

async function healthOf(port: number): Promise<{ code: number; status: string; reason?: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  const body = (await res.json()) as { status: string; reason?: string };
  return { code: res.status, ...body };
}

async function healthCommand(port: number): Promise<{ code: number; out: string }> {
  const p = await spawnBot(["health", "--url", `http://127.0.0.1:${port}/health`], {});
  return { code: await p.exited, out: p.output() };
}

describe.skipIf(skipPostgres() || process.platform === "win32")("the database unreachable (PostgreSQL behind a proxy)", () => {
  test("cut and restored: health store_unavailable meanwhile, nobody exits, what came meanwhile answered once, commands told nothing was done", async () => {
    // Slack gives up on an unacked envelope after a few retries: only catch-up can find those.
    emu = await startEmulator({ ackTimeoutMs: 300, maxRetries: 2 });
    const e = emu;
    e.addChannel("CJOBS", { botMember: true });
    const proxy = await TcpProxy.start(await serverPort());
    cleanups.push(() => proxy.stop());
    const url = new URL(await freshDatabase());
    url.port = String(proxy.port);
    const cluster = new Cluster(e, url.toString());
    cleanups.push(() => cluster.close());
    const [a, b] = await cluster.startAll(["bot-a", "bot-b"]);
    const bots = [a, b] as NonNullable<typeof a>[];
    e.dm("U1", "before the outage");
    await waitFor(() => answers(e, "before the outage") === 1, "answered before the outage");

    proxy.cut();
    for (const i of bots) await waitFor(async () => (await healthOf(i.port)).status === "store_unavailable", `${i.id} store_unavailable`);
    const h = await healthOf(bots[0]?.port as number);
    expect(h.code).toBe(503);
    expect(h.reason).toContain("cannot be reached");
    const cmd = await healthCommand(bots[0]?.port as number);
    expect(cmd.code).toBe(1);
    expect(cmd.out).toStartWith("WARN: store_unavailable");

    const n = 6;
    for (let i = 0; i < n; i++) e.dm(`U${1 + (i % 3)}`, `during the outage ${tag(i)}`);
    e.slash("U9", "CJOBS", "status");
    // Longer than the instance timeout: being cut off together is no reason to take each other over.
    await waitFor(() => e.envelopes.filter((x) => x.dropped).length >= n, "Slack gave up redelivering the DMs", 15_000);
    await waitFor(() => e.responses.find((r) => r.body.text === NOT_RECORDED), "the /claw answered that nothing was done");
    expect(e.responses.filter((r) => r.body.text === NOT_RECORDED)[0]?.user).toBe("U9");
    for (const i of bots) expect(i.bot.proc.exitCode).toBeNull();

    proxy.restore();
    await waitFor(() => {
      for (let i = 0; i < n; i++) if (answers(e, tag(i)) === 0) return false;
      return true;
    }, "everything from the outage answered", 20_000);
    for (const i of bots) await waitFor(async () => (await healthOf(i.port)).status === "ok", `${i.id} ok again`);
    e.dm("UMARK", "marker-outage");
    await waitFor(() => answers(e, "marker-outage") === 1, "marker answered");
    for (let i = 0; i < n; i++) expect(answers(e, tag(i))).toBe(1);
    expect(answers(e, "before the outage")).toBe(1);
    for (const i of bots) expect(i.bot.output()).not.toContain("its work is taken over");
  });

  test("a hung database: /health answers store_unavailable within its bound instead of hanging, and recovers", async () => {
    emu = await startEmulator();
    const e = emu;
    const proxy = await TcpProxy.start(await serverPort());
    cleanups.push(() => proxy.stop());
    const url = new URL(await freshDatabase());
    url.port = String(proxy.port);
    const cluster = new Cluster(e, url.toString());
    cleanups.push(() => cluster.close());
    const [a] = await cluster.startAll(["bot-a"]);
    const port = (a as NonNullable<typeof a>).port;
    proxy.hang();
    const t0 = Date.now();
    const h = await healthOf(port);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(h).toMatchObject({ code: 503, status: "store_unavailable" });
    proxy.restore();
    await waitFor(async () => (await healthOf(port)).status === "ok", "ok once the network delivers again", 20_000);
    e.dm("U1", "after the hang");
    await waitFor(() => answers(e, "after the hang") === 1, "answered");
  });

  test("an instance started while the database is unreachable waits (store_unavailable), then runs; SIGTERM while waiting exits 0", async () => {
    emu = await startEmulator();
    const e = emu;
    const proxy = await TcpProxy.start(await serverPort());
    cleanups.push(() => proxy.stop());
    const url = new URL(await freshDatabase());
    url.port = String(proxy.port);
    url.password = "outage-secret-1";
    proxy.cut();
    const cluster = new Cluster(e, url.toString());
    cleanups.push(() => cluster.close());
    const a = await cluster.start("bot-a");
    await waitFor(async () => (await healthOf(a.port)).status === "store_unavailable", "waiting for the database");
    expect(a.bot.proc.exitCode).toBeNull();
    proxy.restore();
    await waitFor(() => e.openConnections() === 1, "connected once the database is back", 15_000);
    e.dm("U1", "after the wait");
    await waitFor(() => answers(e, "after the wait") === 1, "answered");

    proxy.cut();
    const b = await cluster.start("bot-b");
    await waitFor(async () => (await healthOf(b.port)).status === "store_unavailable", "bot-b waiting");
    expect(await cluster.stop(b)).toBe(0);
    for (const i of [a, b]) expect(i.bot.output()).not.toContain("outage-secret-1");
  });
});

describe.skipIf(skipPostgres() || process.platform === "win32")("a partition", () => {
  test("an instance cut off from the database while it answers is taken over: the message is answered once, its late answer dropped", async () => {
    emu = await startEmulator({ ackTimeoutMs: 300 });
    const e = emu;
    const proxy = await TcpProxy.start(await serverPort());
    cleanups.push(() => proxy.stop());
    const direct = await freshDatabase();
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    const cluster = new Cluster(e, direct);
    cleanups.push(() => cluster.close());
    // bot-a reaches the database through the proxy and answers when told (its agent notes when
    // it starts); bot-b directly, with the echo agent.
    const scratch = cluster.dir();
    const started = join(scratch, "started.txt");
    const agent = join(scratch, "agent.sh");
    const go = join(scratch, "go");
    // It answers when the test says so: after bot-b took the message over and the network healed.
    writeFileSync(agent, `#!/bin/sh\necho started >> ${started}\nwhile [ ! -f ${go} ]; do sleep 0.05; done\necho slow answer:\ncat\n`);
    chmodSync(agent, 0o755);
    const a = await cluster.start("bot-a", { CLAWDBOT_DATABASE_URL: viaProxy.toString(), CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: agent });
    await waitFor(() => e.openConnections() === 1, "bot-a's socket");
    const aConn = e.sockets.find((c) => c.closedAt === undefined)?.id;
    const b = await cluster.start("bot-b");
    await waitFor(() => e.openConnections() === 2, "bot-b's socket");
    await cluster.ready(a);
    await cluster.ready(b);
    // The first envelope goes to the first connection: bot-a's.
    e.dm("U1", "partitioned question");
    await waitFor(() => e.envelopes.find((x) => x.acked)?.acked?.via === aConn || undefined, "bot-a recorded it");
    await waitFor(() => existsSync(started) || undefined, "bot-a's agent at work");
    proxy.cut();
    await waitFor(() => answers(e, "partitioned question") === 1, "bot-b answered it after taking bot-a over", 15_000);
    proxy.restore();
    await waitFor(() => a.bot.output().includes("was taken for dead") || undefined, "bot-a sees the store again");
    writeFileSync(go, "");
    const dropped = () => a.bot.output().includes("while this one answered it: this answer is dropped");
    await waitFor(() => dropped() || answers(e, "partitioned question") > 1, "bot-a's late answer dropped (or sent)", 15_000);
    expect(answers(e, "partitioned question")).toBe(1);
    expect(dropped()).toBe(true);
    e.dm("UMARK", "marker-partition");
    await waitFor(() => answers(e, "marker-partition") === 1, "marker answered");
    expect(answers(e, "partitioned question")).toBe(1);
  });
});

describe.skipIf(skipPostgres() || process.platform === "win32")("the database password", () => {
  test("never appears in logs, health, /metrics, state dump, `clawdbot logs` or errors, even through an outage", async () => {
    const SECRET = "pg-Pa55word-never-shown";
    emu = await startEmulator({ ackTimeoutMs: 300, maxRetries: 2 });
    const e = emu;
    const proxy = await TcpProxy.start(await serverPort());
    cleanups.push(() => proxy.stop());
    const url = new URL(await freshDatabase());
    url.port = String(proxy.port);
    // The test server trusts every login: the password is there to be kept out of sight.
    url.password = SECRET;
    const cluster = new Cluster(e, url.toString());
    cleanups.push(() => cluster.close());
    const [a] = await cluster.startAll(["bot-a"]);
    const inst = a as NonNullable<typeof a>;
    e.dm("U1", "hello");
    await waitFor(() => answers(e, "hello") === 1, "answered");
    proxy.cut();
    await waitFor(async () => (await healthOf(inst.port)).status === "store_unavailable", "store_unavailable");
    const seen: string[] = [JSON.stringify(await healthOf(inst.port)), await (await fetch(`http://127.0.0.1:${inst.port}/metrics`)).text()];
    e.dm("U1", "during");
    await waitFor(() => inst.bot.output().includes("cannot record"), "a store error logged");
    proxy.restore();
    await waitFor(() => answers(e, "during") === 1, "answered after the outage", 20_000);
    for (const args of [["state", "dump", "--json"], ["state", "dump"], ["logs", "-n", "200"]]) {
      const p = await spawnBot([...args, "--db", url.toString()], {});
      expect(await p.exited).toBe(0);
      seen.push(p.output());
    }
    // An error naming the database: a dump of an unreachable one.
    const bad = new URL(url.toString());
    bad.port = "1";
    const failing = await spawnBot(["state", "dump", "--db", bad.toString()], {});
    expect(await failing.exited).toBe(2);
    seen.push(failing.output(), inst.bot.output());
    expect(seen.join("\n")).toContain("cannot be reached");
    for (const text of seen) expect(text).not.toContain(SECRET);
  });
});

describe.skipIf(process.platform === "win32")("SQLite: the file locked for long", () => {
  test("another process holds the write lock: store_unavailable, DMs not acked, answered once after it lets go", async () => {
    emu = await startEmulator({ ackTimeoutMs: 300, maxRetries: 2 });
    const e = emu;
    const dir = tempDir();
    cleanups.push(() => cleanup(dir));
    // A write waits 300 ms for the lock, then fails: "locked for long" comes quickly in a test.
    const env = botEnv(e, dir, { CLAWDBOT_STORE_BUSY_MS: "300", CLAWDBOT_INSTANCE_TIMEOUT: "2", CLAWDBOT_PRESENCE_MS: "200" });
    const bot: BotProcess = await spawnBot(["run"], env);
    cleanups.push(async () => {
      bot.proc.kill(9);
      await bot.exited;
    });
    const port = await bot.healthPort();
    await waitFor(() => e.openConnections() === 1, "connected");
    e.dm("U1", "before the lock");
    await waitFor(() => answers(e, "before the lock") === 1, "answered before the lock");

    const locker = new Database(join(dir, "clawdbot.db"));
    locker.run("PRAGMA busy_timeout = 5000");
    locker.run("BEGIN IMMEDIATE");
    let held = true;
    cleanups.push(() => {
      if (held) locker.run("ROLLBACK");
      locker.close();
    });
    await waitFor(async () => (await healthOf(port)).status === "store_unavailable", "store_unavailable");
    const n = 4;
    for (let i = 0; i < n; i++) e.dm(`U${1 + (i % 2)}`, `while locked ${tag(i)}`);
    await waitFor(() => e.envelopes.filter((x) => x.dropped).length >= n, "Slack gave up redelivering", 15_000);
    expect(answers(e, "outagemsg-")).toBe(0);
    // A click on a message of the bot's (a card's buttons, as far as the bot can tell before it reads the store).
    const reply = e.botMessages().find((m) => m.text.includes("before the lock"));
    e.click("U7", reply?.channel as string, reply?.ts as string, "approval_approve", "ap_x");
    await waitFor(() => e.responses.find((r) => r.body.text === NOT_RECORDED), "the click answered that nothing was done");
    expect(bot.proc.exitCode).toBeNull();

    locker.run("ROLLBACK");
    held = false;
    await waitFor(() => {
      for (let i = 0; i < n; i++) if (answers(e, tag(i)) === 0) return false;
      return true;
    }, "everything from while it was locked answered", 20_000);
    await waitFor(async () => (await healthOf(port)).status === "ok", "ok again");
    e.dm("UMARK", "marker-lock");
    await waitFor(() => answers(e, "marker-lock") === 1, "marker answered");
    for (let i = 0; i < n; i++) expect(answers(e, tag(i))).toBe(1);
  });
});

describe("SQLite: the disk full", () => {
  // A full disk is simulated with PRAGMA max_page_count on the bot's own connection: SQLite
  // then refuses to grow the file exactly as on a full disk (SQLITE_FULL, "database or disk
  // is full"), through the same code paths. A tiny tmpfs would need root; this needs nothing.
  test("writes refused for space: not acked, health store_unavailable, answered once when there is room again", async () => {
    emu = await startEmulator({ ackTimeoutMs: 300, maxRetries: 2 });
    const e = emu;
    const bot = await startBot(e, { CLAWDBOT_PRESENCE_MS: "100", CLAWDBOT_INSTANCE_TIMEOUT: "1" });
    cleanups.push(async () => {
      await bot.stop();
      cleanup(bot.dataDir);
    });
    await waitFor(() => e.openConnections() === 1, "connected");
    e.dm("U1", "before the disk filled");
    await waitFor(() => answers(e, "before the disk filled") === 1, "answered");

    const db = (bot.rt.store as unknown as { db: Database }).db;
    const pages = (db.query("PRAGMA page_count").get() as { page_count: number }).page_count;
    db.run(`PRAGMA max_page_count = ${pages}`);
    // Long messages: their records need pages the file may not grow to.
    const n = 5;
    const filler = "x".repeat(3000);
    for (let i = 0; i < n; i++) e.dm(`U${1 + (i % 2)}`, `${filler} while full ${tag(i)}`);
    await waitFor(async () => (await bot.rt.snapshot()).status === "store_unavailable", "store_unavailable");
    expect((await bot.rt.snapshot()).reason).toContain("full");
    await waitFor(() => e.envelopes.some((x) => x.dropped), "an envelope Slack gave up on (never acked)", 15_000);

    db.run("PRAGMA max_page_count = 1073741823");
    await waitFor(() => {
      for (let i = 0; i < n; i++) if (answers(e, tag(i)) === 0) return false;
      return true;
    }, "everything answered once there is room", 20_000);
    await waitFor(async () => (await bot.rt.snapshot()).status === "ok", "ok again");
    e.dm("UMARK", "marker-full");
    await waitFor(() => answers(e, "marker-full") === 1, "marker answered");
    for (let i = 0; i < n; i++) expect(answers(e, tag(i))).toBe(1);
  });
});
