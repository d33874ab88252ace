// Group commit on PostgreSQL: the writes of one turn run at once in their transaction (their
// statements pipelined on its connection), and that changes none of what they promise: each
// hears back once committed, a failing write (a thrown error, or a statement the server
// refuses, which aborts the whole transaction) fails alone, a reply queued twice in one turn
// is suppressed the second time as in turn, and the kill switch read is never older than a
// change made through the store.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { groupCommit } from "../../src/core/group-commit.ts";
import { queueReply } from "../../src/core/replies.ts";
import type { NewApproval, NewEvent, Store } from "../../src/core/store.ts";
import { openPostgresStore } from "../../src/store/postgres/index.ts";
import { freshDatabase, skipPostgres } from "../helpers/postgres.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const ev = (key: string): NewEvent => ({ key, kind: "dm", channel: "D1", ts: "1.1", user: "U1", text: "hi", payload: "{}" });
const approval = (id: string): NewApproval => ({ id, kind: "exec", text: "echo hi", requestedBy: "U1", channel: "C1", expiresAt: T0 + 60_000 });

describe.skipIf(skipPostgres())("group commit on postgres", () => {
  let url: string;
  let store: Store;
  let transactions: number;

  beforeEach(async () => {
    url = await freshDatabase();
    store = await openPostgresStore(url);
    transactions = 0;
    const tx = store.tx.bind(store);
    store.tx = (fn) => {
      transactions++;
      return tx(fn);
    };
  });

  afterEach(async () => {
    await store.close();
  });

  test("the writes of one turn run at once in one transaction; each resolves, with its own result, once another connection sees it", async () => {
    const commit = groupCommit(store);
    const other = new Bun.SQL(url, { max: 1 });
    const seen = async (key: string) => (await other`SELECT key FROM events WHERE key = ${key}`).length === 1;
    let running = 0;
    let most = 0;
    const writes = ["ev:a", "ev:b", "ev:c"].map((key) =>
      commit(async (t) => {
        most = Math.max(most, ++running);
        const r = await t.events.record(ev(key), T0);
        running--;
        return r.fresh;
      }).then(async (fresh) => ({ fresh, committed: await seen(key) })),
    );
    // A redelivery in the same turn: its statement runs after the first record's, on the same connection.
    const again = commit(async (t) => (await t.events.record(ev("ev:a"), T0 + 1)).fresh);
    expect(await Promise.all(writes)).toEqual([
      { fresh: true, committed: true },
      { fresh: true, committed: true },
      { fresh: true, committed: true },
    ]);
    expect(await again).toBe(false);
    expect(transactions).toBe(1);
    expect(most).toBe(3);
    await other.close();
  });

  test("a write the server refuses fails alone: the others of its turn, in flight with it, land", async () => {
    await store.approvals.create(approval("ap:taken"), T0);
    const commit = groupCommit(store);
    const first = commit((t) => t.events.record(ev("ev:1"), T0));
    // A duplicate id: PostgreSQL aborts the whole transaction, the writes beside it included.
    const bad = commit(async (t) => {
      await t.events.record(ev("ev:bad"), T0);
      return t.approvals.create(approval("ap:taken"), T0);
    });
    const thrown = commit(async (t) => {
      await t.events.record(ev("ev:thrown"), T0);
      throw new Error("boom");
    });
    const last = commit(async (t) => {
      await t.events.record(ev("ev:2"), T0);
      return t.outbox.enqueue({ op: "post", channel: "C1", text: "reply" }, T0);
    });
    const [a, b, c, d] = await Promise.allSettled([first, bad, thrown, last]);
    expect(a.status === "fulfilled" && a.value.fresh).toBe(true);
    expect(b.status === "rejected" && String(b.reason)).toContain("duplicate key");
    expect(c.status === "rejected" && String(c.reason)).toContain("boom");
    expect(d.status === "fulfilled" && d.value).toBeGreaterThan(0);
    expect(await store.events.get("ev:bad")).toBeNull();
    expect(await store.events.get("ev:thrown")).toBeNull();
    expect((await store.events.counts()).received).toBe(2);
    expect((await store.outbox.counts()).pending).toBe(1);
  });

  test("the same reply to the same conversation twice in one turn: the second is suppressed, as when the writes run in turn", async () => {
    const commit = groupCommit(store);
    const reply = { channel: "D1", text: "the same answer" };
    const [a, b] = await Promise.all([commit((t) => queueReply(t, reply, T0)), commit((t) => queueReply(t, reply, T0))]);
    expect(transactions).toBe(1);
    const statuses = await Promise.all([...(a ?? []), ...(b ?? [])].map(async (id) => (await store.outbox.get(id))?.status));
    expect(statuses).toEqual(["pending", "suppressed"]);
  });

  test("kill switch reads asked together agree, and none is older than a pause or resume made through the store", async () => {
    const reads = await Promise.all([1, 2, 3, 4, 5].map(() => store.settings.isPaused()));
    expect(reads).toEqual([false, false, false, false, false]);
    // A read on its way when the pause is written: the reads asked after the write see the pause.
    const before = store.settings.isPaused();
    await store.settings.setPaused(true, T0);
    expect(await store.settings.isPaused()).toBe(true);
    await before;
    // The same through a transaction (the /claw command's way), and back.
    const during = store.settings.isPaused();
    await store.tx((t) => t.settings.setPaused(false, T0 + 1));
    expect(await store.settings.isPaused()).toBe(false);
    await during;
    // Another instance's resume is seen by the next read.
    await store.settings.setPaused(true, T0 + 2);
    const other = await openPostgresStore(url);
    await other.settings.setPaused(false, T0 + 3);
    await other.close();
    expect(await store.settings.isPaused()).toBe(false);
    // In a transaction: its own pause is seen by its next read.
    expect(
      await store.tx(async (t) => {
        const was = t.settings.isPaused();
        await t.settings.setPaused(true, T0 + 4);
        return [await was, await t.settings.isPaused()];
      }),
    ).toEqual([false, true]);
  });
});
