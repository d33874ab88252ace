import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import stateCmd, { type StateDump } from "../../src/cli/state.ts";
import { openStore, storeLocation } from "../../src/store/index.ts";
import { runCli } from "../helpers/cli.ts";
import { freshDatabase, skipPostgres } from "../helpers/postgres.ts";

let dir: string;
let dbPath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "clawdbot-state-"));
  dbPath = storeLocation({ dataDir: dir });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `clawdbot state ...args` in-process: stdout text and the exit code (with its message). */
const run = (...rawArgs: string[]) => runCli(stateCmd, ...rawArgs);

const T0 = Date.parse("2025-03-01T10:00:00.000Z");

async function seed(path: string): Promise<void> {
  const s = await openStore(path);
  await s.settings.setPaused(true, T0);
  await s.events.record({ key: "ev:1", kind: "dm", channel: "D1", user: "U1", text: "hi", payload: "{}" }, T0);
  await s.events.record({ key: "ev:2", kind: "dm", channel: "D1", user: "U1", text: "yo", payload: "{}" }, T0);
  await s.events.setStatus("ev:2", "answered", T0);
  await s.approvals.create({ id: "ap-1", kind: "exec", text: "ls -la", requestedBy: "U1", channel: "C1", expiresAt: T0 + 1000 }, T0);
  await s.approvals.create({ id: "ap-2", kind: "code", text: "fix it", requestedBy: "U2", channel: "C2", expiresAt: T0 + 1000 }, T0 + 1);
  await s.approvals.transition("ap-2", ["pending"], "denied", { decidedBy: "U9", decidedAt: T0 + 5000 });
  const long = "x".repeat(500);
  await s.outbox.enqueue({ op: "post", channel: "C1", threadTs: "1.2", text: long }, T0);
  const b = await s.outbox.enqueue({ op: "post", channel: "C2", text: "failed one" }, T0);
  const c = await s.outbox.enqueue({ op: "post", channel: "C3", text: "sent one" }, T0);
  await s.outbox.claim(b, "test", T0, T0 + 10);
  await s.outbox.markFailed(b, "channel_not_found", T0);
  await s.outbox.claim(c, "test", T0, T0 + 10);
  await s.outbox.markSent(c, "9.9", T0);
  await s.usage.record({ provider: "anthropic", model: "claude", inputTokens: 10, outputTokens: 20, latencyMs: 5 }, T0);
  await s.usage.record({ provider: "anthropic", model: "claude", inputTokens: 1, outputTokens: 2, latencyMs: 5 }, T0);
  // One instance renewing, one that stopped.
  await s.instances.announce("host-a:1", "host-a", T0);
  await s.instances.announce("host-b:2", "host-b", T0);
  await s.instances.renew("host-a:1", Date.now());
  await s.instances.stop("host-b:2", T0 + 10);
  await s.close();
}

describe("state dump --json", () => {
  test("the contract's keys, from a store with rows", async () => {
    await seed(dbPath);
    const { out, code } = await run("dump", "--json", "--db", dbPath);
    expect(code).toBe(0);
    const d = JSON.parse(out) as StateDump;
    expect(d.paused).toBe(true);
    expect(d.db).toBe(dbPath);
    expect(d.schema_version).toBeGreaterThanOrEqual(1);

    expect(d.approvals).toHaveLength(2);
    const denied = d.approvals.find((x) => x.id === "ap-2");
    expect(denied).toEqual({
      id: "ap-2",
      kind: "code",
      status: "denied",
      requested_by: "U2",
      channel: "C2",
      text: "fix it",
      created_at: "2025-03-01T10:00:00.001Z",
      decided_by: "U9",
      decided_at: "2025-03-01T10:00:05.000Z",
    });
    expect(d.approvals.find((x) => x.id === "ap-1")).toMatchObject({ kind: "exec", status: "pending", decided_at: null });

    expect(d.outbox).toMatchObject({ pending: 1, failed: 1, sent: 1 });
    expect(d.outbox.items.map((i) => i.status).sort()).toEqual(["failed", "pending"]);
    const pending = d.outbox.items.find((i) => i.status === "pending");
    expect(pending).toMatchObject({ op: "post", channel: "C1", thread_ts: "1.2", attempts: 0, last_error: null, created_at: "2025-03-01T10:00:00.000Z" });
    expect(pending?.text).toHaveLength(200);
    expect(d.outbox.items.find((i) => i.status === "failed")).toMatchObject({ last_error: "channel_not_found", attempts: 1 });

    expect(d.usage).toEqual([{ provider: "anthropic", model: "claude", calls: 2, input_tokens: 11, output_tokens: 22 }]);
    expect(d.events).toMatchObject({ received: 1, answered: 1, ignored: 0, failed: 0 });
    expect(d.instances).toEqual([
      { id: "host-a:1", host: "host-a", started_at: "2025-03-01T10:00:00.000Z", last_seen_at: expect.any(String), alive: true },
      { id: "host-b:2", host: "host-b", started_at: "2025-03-01T10:00:00.000Z", last_seen_at: "2025-03-01T10:00:00.000Z", alive: false },
    ]);
  });

  test("the database's own path comes from CLAWDBOT_DATA_DIR without --db", async () => {
    await seed(dbPath);
    const saved = process.env.CLAWDBOT_DATA_DIR;
    process.env.CLAWDBOT_DATA_DIR = dir;
    try {
      const { out, code } = await run("dump", "--json");
      expect(code).toBe(0);
      expect((JSON.parse(out) as StateDump).db).toBe(dbPath);
    } finally {
      if (saved === undefined) delete process.env.CLAWDBOT_DATA_DIR;
      else process.env.CLAWDBOT_DATA_DIR = saved;
    }
  });

  test("dumping writes nothing", async () => {
    await seed(dbPath);
    const before = await Bun.file(dbPath).bytes();
    await run("dump", "--json", "--db", dbPath);
    await run("dump", "--db", dbPath);
    expect(await Bun.file(dbPath).bytes()).toEqual(before);
  });
});

describe("state dump (text)", () => {
  test("sections and aligned columns", async () => {
    await seed(dbPath);
    const { out, code } = await run("dump", "--db", dbPath);
    expect(code).toBe(0);
    for (const section of ["Kill switch", "Approvals", "Outbox", "Usage", "Events", "Instances: 1 alive"]) expect(out).toContain(`\n${section}`);
    expect(out).toContain("PAUSED");
    expect(out).toContain("Outbox: 1 pending, 1 failed, 1 sent");
    const lines = out.split("\n");
    const header = lines.find((l) => l.includes("PROVIDER")) as string;
    const row = lines.find((l) => l.includes("anthropic")) as string;
    expect(row.indexOf("claude")).toBe(header.indexOf("MODEL"));
    expect(row.indexOf("11")).toBe(header.indexOf("INPUT_TOKENS"));
  });

  test("an empty store", async () => {
    await (await openStore(dbPath)).close();
    const { out, code } = await run("dump", "--db", dbPath);
    expect(code).toBe(0);
    expect(out).toContain("off (answering)");
    expect(out).toContain("nothing undelivered");
  });
});

describe.skipIf(skipPostgres())("a cluster's store (PostgreSQL)", () => {
  test("--db postgres://... or CLAWDBOT_DATABASE_URL: the same dump, the password never shown", async () => {
    const url = new URL(await freshDatabase());
    // The test server trusts every login; the password is there to be kept out of sight.
    url.password = "dump-secret-9";
    await seed(url.toString());
    const { out, code } = await run("dump", "--json", "--db", url.toString());
    expect(code).toBe(0);
    const d = JSON.parse(out) as StateDump;
    expect(d).toMatchObject({ paused: true, events: { received: 1, answered: 1 }, outbox: { pending: 1, failed: 1, sent: 1 } });
    expect(d.instances.map((i) => [i.id, i.alive])).toEqual([
      ["host-a:1", true],
      ["host-b:2", false],
    ]);
    expect(d.db).toStartWith("postgres://postgres@127.0.0.1:");
    expect(out).not.toContain("dump-secret-9");
    const saved = process.env.CLAWDBOT_DATABASE_URL;
    process.env.CLAWDBOT_DATABASE_URL = url.toString();
    try {
      const text = await run("dump");
      expect(text.code).toBe(0);
      expect(text.out).toContain("Instances: 1 alive");
      expect(text.out).not.toContain("dump-secret-9");
    } finally {
      if (saved === undefined) delete process.env.CLAWDBOT_DATABASE_URL;
      else process.env.CLAWDBOT_DATABASE_URL = saved;
    }
  });

  test("an unreachable database: exit 2, one line, no password", async () => {
    const { code, message } = await run("dump", "--db", "postgres://bot:dump-secret-9@127.0.0.1:1/clawdbot");
    expect(code).toBe(2);
    expect(message).toStartWith("no store at postgres://bot@127.0.0.1:1/clawdbot: it cannot be reached");
    expect(message).not.toContain("dump-secret-9");
    expect(message).not.toContain("\n");
  });
});

describe("no store", () => {
  test("a missing file: exit 2, one line naming the path", async () => {
    const missing = join(dir, "nope", "clawdbot.db");
    const { code, message, out } = await run("dump", "--json", "--db", missing);
    expect(code).toBe(2);
    expect(message).toStartWith(`no store at ${missing}: `);
    expect(message).not.toContain("\n");
    expect(out).toBe("");
  });

  test("a file that is not a store: exit 2", async () => {
    writeFileSync(dbPath, "this is not sqlite, just some text that is long enough to be read as a header".repeat(20));
    const { code, message } = await run("dump", "--db", dbPath);
    expect(code).toBe(2);
    expect(message).toStartWith(`no store at ${dbPath}: `);
  });

  test("an empty SQLite file (no schema): exit 2", async () => {
    writeFileSync(dbPath, "");
    const { code, message } = await run("dump", "--json", "--db", dbPath);
    expect(code).toBe(2);
    expect(message).toStartWith(`no store at ${dbPath}: `);
  });
});

describe("while another process writes", () => {
  test("an uncommitted write transaction neither blocks nor shows", async () => {
    await seed(dbPath);
    const writer = await openStore(dbPath);
    try {
      // The writer's transaction stays open while the dump (another connection) reads.
      await writer.tx(async (t) => {
        await t.events.record({ key: "ev:uncommitted", kind: "dm", payload: "{}" }, T0);
        const t0 = Date.now();
        const { out, code } = await run("dump", "--json", "--db", dbPath);
        expect(Date.now() - t0).toBeLessThan(1000);
        expect(code).toBe(0);
        expect((JSON.parse(out) as StateDump).events.received).toBe(1);
      });
      const after = JSON.parse((await run("dump", "--json", "--db", dbPath)).out) as StateDump;
      expect(after.events.received).toBe(2);
    } finally {
      await writer.close();
    }
  });

  test("a child process writing in a loop (WAL): every dump is whole and consistent", async () => {
    await (await openStore(dbPath)).close();
    const script = join(dir, "writer.ts");
    const storeModule = new URL("../../src/store/index.ts", import.meta.url).pathname;
    writeFileSync(
      script,
      `import { openStore } from ${JSON.stringify(storeModule)};
const s = await openStore(${JSON.stringify(dbPath)});
let i = 0;
const end = Date.now() + 1500;
while (Date.now() < end) {
  // One event and one outbox row per transaction: a consistent dump sees equal numbers.
  await s.tx(async (t) => {
    await t.events.record({ key: "ev:" + i, kind: "dm", payload: "{}" }, Date.now());
    await t.outbox.enqueue({ op: "post", channel: "C1", text: "reply " + i }, Date.now());
  });
  if (i++ === 0) console.log("ready");
  await Bun.sleep(1);
}
await s.close();
console.log("done " + i);
`,
    );
    const child = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
    const reader = child.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain("ready");

    const seen: number[] = [];
    let running = true;
    void child.exited.then(() => (running = false));
    while (running || seen.length < 3) {
      const { out, code, message } = await run("dump", "--json", "--db", dbPath);
      expect(message).toBe("");
      expect(code).toBe(0);
      const d = JSON.parse(out) as StateDump;
      const received = d.events.received ?? 0;
      expect(d.outbox.pending).toBe(received);
      expect(d.outbox.items.length).toBe(Math.min(d.outbox.pending, 1000));
      seen.push(received);
      if (!running && seen.length >= 3) break;
      await Bun.sleep(20);
    }
    expect(await child.exited).toBe(0);
    let done = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) done += new TextDecoder().decode(r.value);
    const total = Number(/done (\d+)/.exec(done)?.[1]);
    // The dumps ran during the writes: they saw the count grow, never shrink.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.some((n) => n > 0 && n < total)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i] as number).toBeGreaterThanOrEqual(seen[i - 1] as number);
  }, 15_000);
});
