// A cluster: 2-3 compiled `clawdbot run` processes on one PostgreSQL database against the
// emulator, which hands each envelope to one of their connections. Every guarantee of one
// host holds: each message answered once, each job run once, a dead instance's work taken
// over (its jobs reported, never re-run).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { PAUSED_NOTICE } from "../../src/core/pipeline.ts";
import { queueReply } from "../../src/core/replies.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { openStore } from "../../src/store/index.ts";
import { steps } from "../../src/store/postgres/migrations.ts";
import { botEnv, cleanup, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { Cluster, connectionsUsed, slowAgent } from "../helpers/cluster.ts";
import { freshDatabase, skipPostgres } from "../helpers/postgres.ts";
import { startLoadBalancer } from "../stand-ins/load-balancer.ts";
import { APPROVER, STRANGER, currentCard, hasButtons, lines, threadReplies, waitCard } from "./approvals-helpers.ts";

const CH = "CJOBS";
let emu: SlackEmulator;
let cluster: Cluster;

const answers = (tag: string) => emu.botMessages().filter((m) => m.text.includes(tag)).length;
const tag = (i: number) => `clustermsg-${String(i).padStart(3, "0")}-end`;

function allOnce(n: number): boolean {
  for (let i = 0; i < n; i++) if (answers(tag(i)) !== 1) return false;
  return true;
}

async function dump(url: string) {
  const p = await spawnBot(["state", "dump", "--json", "--db", url], {});
  expect(await p.exited).toBe(0);
  return JSON.parse(p.output()) as { approvals: { id: string; status: string }[]; instances: { id: string; alive: boolean }[] };
}

describe.skipIf(skipPostgres() || process.platform === "win32")("a cluster on one PostgreSQL database", () => {
  beforeEach(async () => {
    // Unacked envelopes come back quickly after a kill.
    emu = await startEmulator({ ackTimeoutMs: 500 });
    emu.addChannel(CH, { botMember: true });
    cluster = new Cluster(emu, await freshDatabase(), { CLAWDBOT_APPROVERS: APPROVER });
  });
  afterEach(async () => {
    await cluster.close();
    await emu.stop();
  });

  test("a burst to three instances is answered exactly once, spread over their connections; health counts the cluster", async () => {
    const [a] = await cluster.startAll(["bot-a", "bot-b", "bot-c"]);
    const n = 60;
    for (let i = 0; i < n; i++) emu.dm(`U${i % 7}`, `please answer ${tag(i)}`);
    await waitFor(() => allOnce(n), "every message answered once", 30_000);
    expect(connectionsUsed(emu).size).toBe(3);
    const h = await a?.health();
    expect(h).toMatchObject({ status: "ok", instance: "bot-a", store: "postgres", cluster_instances: 3 });
    const d = await dump(cluster.url);
    expect(d.instances.map((i) => [i.id, i.alive]).sort()).toEqual([
      ["bot-a", true],
      ["bot-b", true],
      ["bot-c", true],
    ]);
    // Settled: nothing sent twice afterwards either.
    emu.dm("UMARK", "marker-burst");
    await waitFor(() => answers("marker-burst") === 1, "marker answered");
    expect(allOnce(n)).toBe(true);
  });

  test("kill -9 of an instance mid-burst (slow agent): the others answer what it held, each message once", async () => {
    // bot-a's agent is too slow to answer anything before it dies: what it acked, only a takeover answers.
    const a = await cluster.start("bot-a", slowAgent(cluster.dir(), 20));
    await waitFor(() => emu.openConnections() === 1, "bot-a's socket");
    const aConn = emu.sockets.find((c) => c.closedAt === undefined)?.id;
    await cluster.startAll(["bot-b", "bot-c"], slowAgent(cluster.dir(), 0.2));
    const n = 45;
    for (let i = 0; i < n; i++) emu.dm(`U${i % 9}`, `please answer ${tag(i)}`);
    const held = () => emu.envelopes.filter((e) => e.acked?.via === aConn).length;
    await waitFor(() => held() >= 5, "bot-a holds recorded messages");
    await cluster.kill9(a);
    expect(answers("clustermsg-")).toBeLessThan(n);
    await waitFor(() => allOnce(n) || Array.from({ length: n }, (_, i) => answers(tag(i))).some((c) => c > 1), "every message answered", 30_000);
    expect(Array.from({ length: n }, (_, i) => answers(tag(i))).filter((c) => c !== 1)).toEqual([]);
    // One of the others took its work over, once; state dump shows it dead.
    const takenOver = (i: { bot: { output(): string } }) => /instance bot-a .* its work is taken over/.test(i.bot.output());
    await waitFor(() => cluster.instances.some(takenOver), "the takeover in a log");
    expect(cluster.instances.filter(takenOver)).toHaveLength(1);
    const d = await dump(cluster.url);
    expect(d.instances.find((i) => i.id === "bot-a")?.alive).toBe(false);
  });

  test("two clicks on two instances: the job runs once", async () => {
    const marker = join(cluster.dir(), "runs.txt");
    await cluster.startAll(["bot-a", "bot-b"]);
    emu.slash(STRANGER, CH, `exec echo run >> ${marker}`);
    const { card, id } = await waitCard(emu, CH);
    const clicks = [emu.click(APPROVER, CH, card.ts, "approval_approve", id), emu.click(APPROVER, CH, card.ts, "approval_approve", id)];
    await waitFor(() => threadReplies(emu, CH, card.ts).find((m) => m.text.includes("exit 0")), "the result in the card's thread");
    const via = clicks.map((c) => emu.envelopes.find((e) => e.envelope_id === c.envelope_id)?.attempts[0]?.via);
    expect(new Set(via).size).toBe(2); // one click reached each instance
    await waitFor(async () => (await dump(cluster.url)).approvals.find((x) => x.id === id)?.status === "succeeded", "succeeded");
    expect(lines(marker)).toBe(1);
    expect(threadReplies(emu, CH, card.ts).filter((m) => m.text.includes("exit 0"))).toHaveLength(1);
  });

  test("/claw pause through one instance pauses every instance; /claw resume through another resumes them all", async () => {
    const [a, b] = await cluster.startAll(["bot-a", "bot-b"], { CLAWDBOT_ADMINS: APPROVER });
    const paused = async (want: boolean) => (await a?.health())?.paused === want && (await b?.health())?.paused === want;
    emu.slash(APPROVER, CH, "pause");
    await waitFor(() => paused(true), "both instances paused");
    const n = 20;
    for (let i = 0; i < n; i++) emu.dm(`U${i % 5}`, `while paused ${tag(i)}`);
    await waitFor(() => emu.botMessages().filter((m) => m.text === PAUSED_NOTICE).length === n, "a notice for each message");
    expect(connectionsUsed(emu).size).toBe(2);
    expect(answers("clustermsg-")).toBe(0);
    emu.slash(APPROVER, CH, "resume");
    await waitFor(() => paused(false), "both instances resumed");
    for (let i = n; i < 2 * n; i++) emu.dm(`U${i % 5}`, `resumed ${tag(i)}`);
    await waitFor(() => Array.from({ length: n }, (_, i) => answers(tag(n + i))).every((c) => c === 1), "each answered by the agent once");
    expect(emu.botMessages().filter((m) => m.text === PAUSED_NOTICE)).toHaveLength(n);
  });

  test("a card decided after the instance that posted it stopped: another instance runs it", async () => {
    const marker = join(cluster.dir(), "runs.txt");
    const a = await cluster.start("bot-a");
    await waitFor(() => emu.openConnections() === 1, "bot-a's socket");
    emu.slash(STRANGER, CH, `exec echo run >> ${marker}`);
    const { card, id } = await waitCard(emu, CH);
    await cluster.start("bot-b");
    await waitFor(() => emu.openConnections() === 2, "bot-b's socket");
    expect(await cluster.stop(a)).toBe(0);
    await waitFor(() => emu.openConnections() === 1, "bot-a gone");
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(() => threadReplies(emu, CH, card.ts).find((m) => m.text.includes("exit 0")), "the result in the card's thread");
    await waitFor(() => !hasButtons(currentCard(emu, CH, card.ts)) || undefined, "the card updated");
    expect(lines(marker)).toBe(1);
  });

  test("a job running on an instance that is killed is reported interrupted by another, never re-run", async () => {
    const marker = join(cluster.dir(), "started.txt");
    const a = await cluster.start("bot-a");
    await waitFor(() => emu.openConnections() === 1, "bot-a's socket");
    emu.slash(STRANGER, CH, `exec echo started >> ${marker}; sleep 30`);
    const { card, id } = await waitCard(emu, CH);
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(() => lines(marker) === 1 || undefined, "the job started on bot-a");
    await cluster.start("bot-b");
    await waitFor(() => emu.openConnections() === 2, "bot-b's socket");
    await cluster.kill9(a);
    const note = await waitFor(() => threadReplies(emu, CH, card.ts).find((m) => m.text.includes("interrupted")), "the interrupted note", 15_000);
    // Same host: bot-b found the job's process and stopped it.
    expect(note.text).toContain("has been stopped");
    await waitFor(async () => (await dump(cluster.url)).approvals.find((x) => x.id === id)?.status === "interrupted", "interrupted in the store");
    await waitFor(() => !hasButtons(currentCard(emu, CH, card.ts)) || undefined, "the card updated");
    expect(lines(marker)).toBe(1);
    expect(threadReplies(emu, CH, card.ts).filter((m) => m.text.includes("interrupted"))).toHaveLength(1);
  });

  test("one heartbeat per interval for the cluster; an echo given to the other instance's socket is no deafness", async () => {
    emu.addChannel("C0HEARTBT", { name: "heartbeat", botMember: true });
    const [a, b] = await cluster.startAll(["bot-a", "bot-b"], {
      CLAWDBOT_HEARTBEAT_CHANNEL: "C0HEARTBT",
      CLAWDBOT_HEARTBEAT_INTERVAL: "0.3",
      CLAWDBOT_CANARY_TIMEOUT: "0.6",
    });
    const beats = () => emu.botMessages("C0HEARTBT").map((m) => /\((bot-[ab])\) up/.exec(m.text)?.[1]);
    await waitFor(() => beats().length >= 5, "five heartbeats", 15_000);
    // One instance beats for the cluster (it keeps the lease); the other never does while it lives.
    expect(new Set(beats()).size).toBe(1);
    // The echoes went to both connections (in turn), and neither instance took its socket for deaf.
    for (const inst of [a, b]) {
      const h = await inst?.health();
      expect(h?.status).toBe("ok");
      expect(inst?.bot.output()).not.toContain("socket is deaf");
    }
  });

  test("replay works on the cluster's store (--db postgres://...); an instance started after sends nothing twice", async () => {
    // What a dead instance left: events never answered, replies never sent.
    const seedStore = await openStore(cluster.url);
    const now = Date.now();
    for (let i = 0; i < 3; i++) {
      const ts = `1700000000.${String(i).padStart(6, "0")}`;
      await seedStore.events.record({ key: `msg:${CH}:${ts}`, kind: "mention", channel: CH, ts, threadTs: ts, user: "UALICE", text: `left-${i}-x`, payload: "{}" }, now);
    }
    await seedStore.tx((t) => queueReply(t, { channel: CH, text: "unsent-x" }, now));
    await seedStore.close();
    const r = await spawnBot(["replay", "--json", "--db", cluster.url], cluster.envFor("replay"));
    expect(await r.exited).toBe(0);
    expect(JSON.parse(r.output())).toMatchObject({ answered: 3, not_delivered: [] });
    expect([0, 1, 2].every((i) => answers(`left-${i}-x`) === 1) && answers("unsent-x") === 1).toBe(true);
    const [a] = await cluster.startAll(["bot-a"]);
    emu.dm("UMARK", "marker-replay");
    await waitFor(() => answers("marker-replay") === 1, "marker answered");
    expect([0, 1, 2].map((i) => answers(`left-${i}-x`))).toEqual([1, 1, 1]);
    expect(answers("unsent-x")).toBe(1);
    expect((await a?.health())?.status).toBe("ok");
  });

  test("catch-up with two instances starting at once: each message missed while none ran is answered once", async () => {
    const a = await cluster.start("bot-a");
    await waitFor(() => emu.openConnections() === 1, "bot-a's socket");
    emu.dm("U1", "warm-up");
    await waitFor(() => answers("warm-up") === 1, "warm-up answered");
    await cluster.stop(a);
    await waitFor(() => emu.openConnections() === 0, "no instance runs");
    // Live delivery is withheld: only catch-up can find these.
    emu.deafen(true);
    const n = 8;
    for (let i = 0; i < n; i++) emu.dm(`U${1 + (i % 4)}`, `while away ${tag(i)}`);
    await cluster.startAll(["bot-a", "bot-b"]);
    await waitFor(() => allOnce(n), "every missed message answered once", 20_000);
    emu.deafen(false); // the late live deliveries are the same messages
    emu.dm("UMARK", "marker-catchup");
    await waitFor(() => answers("marker-catchup") === 1, "marker answered");
    expect(allOnce(n)).toBe(true);
    expect(answers("warm-up")).toBe(1);
  });
});

describe.skipIf(skipPostgres() || process.platform === "win32")("a cluster in http mode", () => {
  test("behind a load balancer any instance takes any request: each message answered once, a job run once", async () => {
    const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
    emu = await startEmulator();
    emu.addChannel(CH, { botMember: true });
    cluster = new Cluster(emu, await freshDatabase(), {
      CLAWDBOT_APPROVERS: APPROVER,
      CLAWDBOT_MODE: "http",
      SLACK_SIGNING_SECRET: SECRET,
      CLAWDBOT_HTTP_PORT: "0",
    });
    try {
      const insts = [await cluster.start("bot-a"), await cluster.start("bot-b")];
      const ports = await Promise.all(
        insts.map((i) => waitFor(() => /Slack events on port (\d+)/.exec(i.bot.output())?.[1], `${i.id}'s events port`)),
      );
      const lb = startLoadBalancer(ports.map((p) => `http://127.0.0.1:${p}`));
      try {
        emu.useHttpDelivery(`${lb.url}/slack/events`, SECRET);
        for (const i of insts) await waitFor(async () => (await i.health()).status === "ok", `${i.id} ready`);
        const n = 20;
        for (let i = 0; i < n; i++) emu.dm(`U${i % 5}`, `please answer ${tag(i)}`);
        await waitFor(() => allOnce(n), "every message answered once");
        expect(lb.counts.every((c) => c > 0)).toBe(true);
        const marker = join(cluster.dir(), "runs.txt");
        emu.slash(STRANGER, CH, `exec echo run >> ${marker}`);
        const { card, id } = await waitCard(emu, CH);
        emu.click(APPROVER, CH, card.ts, "approval_approve", id);
        emu.click(APPROVER, CH, card.ts, "approval_approve", id);
        await waitFor(() => threadReplies(emu, CH, card.ts).find((m) => m.text.includes("exit 0")), "the result in the card's thread");
        await waitFor(async () => (await dump(cluster.url)).approvals.find((x) => x.id === id)?.status === "succeeded", "succeeded");
        expect(lines(marker)).toBe(1);
        expect(allOnce(n)).toBe(true);
      } finally {
        lb.stop();
      }
    } finally {
      await cluster.close();
      await emu.stop();
    }
  });
});

describe.skipIf(process.platform === "win32")("schema skew", () => {
  test.skipIf(skipPostgres())("an instance older than the database's schema exits 2 naming both versions", async () => {
    const url = await freshDatabase();
    const sql = new Bun.SQL(url, { max: 1 });
    // A newer clawdbot migrated this database.
    await sql.unsafe("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    await sql`INSERT INTO schema_version (version, applied_at) VALUES (99, 0)`;
    await sql.close();
    const e = await startEmulator();
    const dir = tempDir();
    try {
      const bot = await spawnBot(["run"], botEnv(e, dir, { CLAWDBOT_DATABASE_URL: url }));
      expect(await bot.exited).toBe(2);
      expect(bot.output()).toContain("v99");
      expect(bot.output()).toContain(`v${steps.length}`);
      expect(e.openConnections()).toBe(0);
    } finally {
      await e.stop();
      cleanup(dir);
    }
  });

  test("SQLite too: a store file of a newer clawdbot is refused, exit 2, naming both versions", async () => {
    const e = await startEmulator();
    const dir = tempDir();
    try {
      const db = new Database(join(dir, "clawdbot.db"));
      db.run("PRAGMA user_version = 99");
      db.close();
      const bot = await spawnBot(["run"], botEnv(e, dir));
      expect(await bot.exited).toBe(2);
      expect(bot.output()).toMatch(/v99.*v\d+/);
    } finally {
      await e.stop();
      cleanup(dir);
    }
  });
});
