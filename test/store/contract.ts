// The store contract: what the core relies on, run against every adapter (each adapter's test
// file calls testStore with a way to open a fresh, empty store). Only the port is used here;
// what is particular to one backend (files, WAL, query plans) lives in that backend's tests.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { NewApproval, NewEvent, NewOutbox, Store } from "../../src/core/store.ts";

export interface OpenedStore {
  store: Store;
  cleanup(): Promise<void> | void;
}

const T0 = Date.parse("2026-01-01T00:00:00Z");

const ev = (key: string, more: Partial<NewEvent> = {}): NewEvent => ({ key, kind: "dm", channel: "D1", ts: "1.1", user: "U1", text: "hi", payload: "{}", ...more });
const post = (more: Partial<NewOutbox> = {}): NewOutbox => ({ op: "post", channel: "C1", text: "reply", ...more });
const approval = (id: string, more: Partial<NewApproval> = {}): NewApproval => ({
  id,
  kind: "exec",
  text: "echo hi",
  requestedBy: "U1",
  channel: "C1",
  expiresAt: T0 + 60_000,
  ...more,
});

export interface OpenOptions {
  /** The log store's bound (CLAWDBOT_LOG_RETENTION_MB). */
  logRetentionBytes?: number;
}

/** The contract's tests against the adapter `name`; `open` gives a fresh, empty store each time. */
export function testStore(name: string, open: (opts?: OpenOptions) => Promise<OpenedStore>): void {
  describe(`store contract: ${name}`, () => {
    let opened: OpenedStore;
    let store: Store;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await store.close();
      await opened.cleanup();
    });

    describe("transactions", () => {
      test("all of a transaction lands, or none of it", async () => {
        await store.tx(async (t) => {
          await t.events.record(ev("ev:a"), T0);
          await t.outbox.enqueue(post({ eventKey: "ev:a" }), T0);
        });
        await expect(
          store.tx(async (t) => {
            await t.events.record(ev("ev:b"), T0);
            await t.outbox.enqueue(post({ eventKey: "ev:b" }), T0);
            throw new Error("changed my mind");
          }),
        ).rejects.toThrow("changed my mind");
        expect(await store.events.get("ev:a")).not.toBeNull();
        expect(await store.outbox.idsForEvent("ev:a")).toHaveLength(1);
        expect(await store.events.get("ev:b")).toBeNull();
        expect(await store.outbox.idsForEvent("ev:b")).toHaveLength(0);
      });

      test("a transaction returns its body's value and reads its own writes", async () => {
        const id = await store.tx(async (t) => {
          const id = await t.outbox.enqueue(post(), T0);
          expect((await t.outbox.get(id))?.text).toBe("reply");
          return id;
        });
        expect((await store.outbox.get(id))?.status).toBe("pending");
      });

      test("another task's call while a transaction is open is not part of it", async () => {
        let outside: Promise<unknown> = Promise.resolve();
        await expect(
          store.tx(async (t) => {
            await t.events.record(ev("ev:inside"), T0);
            outside = store.events.record(ev("ev:outside"), T0);
            await t.settings.setPaused(true, T0);
            throw new Error("roll back");
          }),
        ).rejects.toThrow("roll back");
        await outside;
        expect(await store.events.get("ev:inside")).toBeNull();
        expect(await store.settings.isPaused()).toBe(false);
        expect(await store.events.get("ev:outside")).not.toBeNull();
      });

      test("many transactions and single calls at once: each lands whole, none is lost", async () => {
        const work = Array.from({ length: 60 }, (_, i) =>
          i % 3 === 0
            ? store.events.record(ev(`ev:${i}`), T0)
            : store.tx(async (t) => {
                await t.events.record(ev(`ev:${i}`), T0);
                await Promise.resolve(); // let other tasks run while it is open
                await t.outbox.enqueue(post({ eventKey: `ev:${i}` }), T0);
              }),
        );
        await Promise.all(work);
        expect((await store.events.counts()).received).toBe(60);
        expect((await store.outbox.counts()).pending).toBe(40);
        for (let i = 1; i < 60; i += 3) expect(await store.outbox.idsForEvent(`ev:${i}`)).toHaveLength(1);
      });

      test("a read sees one consistent state", async () => {
        await store.tx(async (t) => {
          await t.events.record(ev("ev:1"), T0);
          await t.outbox.enqueue(post(), T0);
        });
        const seen = await store.read(async (t) => ({ events: (await t.events.counts()).received, outbox: (await t.outbox.counts()).pending }));
        expect(seen).toEqual({ events: 1, outbox: 1 });
      });

      test("the schema version is known", async () => {
        expect(await store.schemaVersion()).toBeGreaterThan(0);
      });
    });

    describe("settings", () => {
      test("the kill switch is off until set, and stays as set", async () => {
        expect(await store.settings.isPaused()).toBe(false);
        await store.settings.setPaused(true, T0);
        expect(await store.settings.isPaused()).toBe(true);
        await store.settings.setPaused(false, T0 + 1);
        expect(await store.settings.isPaused()).toBe(false);
        expect(await store.settings.get("nothing")).toBeUndefined();
        await store.settings.set("k", "v1", T0);
        await store.settings.set("k", "v2", T0);
        expect(await store.settings.get("k")).toBe("v2");
      });
    });

    describe("events", () => {
      test("a redelivery of a key is not recorded again", async () => {
        const first = await store.events.record(ev("msg:D1:1.1", { text: "first" }), T0);
        expect(first.fresh).toBe(true);
        expect(await store.events.record(ev("msg:D1:1.1", { text: "second" }), T0 + 1)).toEqual({ fresh: false, event: null });
        const row = await store.events.get("msg:D1:1.1");
        // The record returns the event as it was recorded: no read after the write.
        expect(first.event).toEqual(row);
        expect(row).toMatchObject({ key: "msg:D1:1.1", kind: "dm", channel: "D1", ts: "1.1", user: "U1", text: "first", status: "received", receivedAt: T0 });
        expect(row?.threadTs).toBeNull();
        expect(row?.detail).toBeNull();
      });

      test("concurrent records of one key: one is fresh", async () => {
        const r = await Promise.all(Array.from({ length: 5 }, () => store.events.record(ev("ev:same"), T0)));
        expect(r.filter((x) => x.fresh)).toHaveLength(1);
      });

      test("of two owners claiming at once one wins; the winner may claim again; an expired lease is taken over", async () => {
        await store.events.record(ev("ev:1"), T0);
        const [a, b] = await Promise.all([store.events.claim("ev:1", "host:1", T0, T0 + 1000), store.events.claim("ev:1", "host:2", T0, T0 + 1000)]);
        expect([a, b].filter(Boolean)).toHaveLength(1);
        const winner = a ? "host:1" : "host:2";
        const loser = a ? "host:2" : "host:1";
        expect(await store.events.claim("ev:1", winner, T0 + 10, T0 + 2000)).toBe(true);
        expect(await store.events.claim("ev:1", loser, T0 + 1500, T0 + 3000)).toBe(false);
        expect(await store.events.claim("ev:1", loser, T0 + 2001, T0 + 3000)).toBe(true);
        expect(await store.events.leaseOwners()).toEqual([loser]);
      });

      test("an event recorded with a lease is its owner's: others cannot claim it until the lease runs out", async () => {
        const { event } = await store.events.record(ev("ev:1", { lease: { owner: "host:1", until: T0 + 1000 } }), T0);
        expect(event).toMatchObject({ key: "ev:1", status: "received", receivedAt: T0 });
        expect(await store.events.leaseOwners()).toEqual(["host:1"]);
        expect(await store.events.claim("ev:1", "host:2", T0 + 999, T0 + 2000)).toBe(false);
        expect(await store.events.claim("ev:1", "host:1", T0 + 10, T0 + 2000)).toBe(true);
        expect(await store.events.claim("ev:1", "host:2", T0 + 2001, T0 + 3000)).toBe(true);
        // Without a lease it is anyone's.
        await store.events.record(ev("ev:2"), T0);
        expect(await store.events.claim("ev:2", "host:2", T0, T0 + 1000)).toBe(true);
      });

      test("a finished event cannot be claimed", async () => {
        await store.events.record(ev("ev:1"), T0);
        await store.events.setStatus("ev:1", "answered", T0, "done");
        expect(await store.events.claim("ev:1", "host:1", T0, T0 + 1000)).toBe(false);
        expect((await store.events.get("ev:1"))?.detail).toBe("done");
      });

      test("a dead owner's leases are released: the event is claimable now", async () => {
        await store.events.record(ev("ev:1"), T0);
        await store.events.claim("ev:1", "dead:1", T0, T0 + 60_000);
        expect(await store.events.releaseLeases("dead:1")).toBe(1);
        expect(await store.events.claim("ev:1", "host:2", T0 + 1, T0 + 1000)).toBe(true);
      });

      test("unanswered and counts", async () => {
        await store.events.record(ev("ev:1"), T0);
        await store.events.record(ev("ev:2"), T0);
        await store.events.record(ev("ev:3", { status: "ignored" }), T0);
        await store.events.setStatus("ev:2", "answered", T0);
        expect((await store.events.unanswered()).map((e) => e.key)).toEqual(["ev:1"]);
        expect(await store.events.counts()).toEqual({ received: 1, answered: 1, ignored: 1 });
      });

      test("where the bot took part: conversations and threads of DMs and mentions, newest first", async () => {
        await store.events.record(ev("e1", { kind: "dm", channel: "D1", threadTs: "1.0" }), T0);
        await store.events.record(ev("e2", { kind: "mention", channel: "C1", threadTs: "2.0" }), T0 + 10);
        await store.events.record(ev("e3", { kind: "mention", channel: "C1", threadTs: "2.0" }), T0 + 20);
        await store.events.record(ev("e4", { kind: "slash", channel: "C9", threadTs: "3.0" }), T0 + 30);
        await store.events.record(ev("e5", { kind: "dm", channel: "D0" }), T0 - 1000);
        expect((await store.events.activeChannels(T0)).sort()).toEqual(["C1", "D1"]);
        expect(await store.events.activeThreads(T0)).toEqual([
          { channel: "C1", threadTs: "2.0", at: T0 + 20 },
          { channel: "D1", threadTs: "1.0", at: T0 },
        ]);
        expect(await store.events.activeThreads(T0, 1)).toHaveLength(1);
        expect(await store.events.knows("C9")).toBe(true);
        expect(await store.events.knows("C404")).toBe(false);
      });

      test("purge forgets finished old events, keeps unanswered ones", async () => {
        await store.events.record(ev("old-done"), T0);
        await store.events.setStatus("old-done", "answered", T0);
        await store.events.record(ev("old-open"), T0);
        await store.events.record(ev("new-done"), T0 + 5000);
        await store.events.setStatus("new-done", "answered", T0 + 5000);
        expect(await store.events.purge(T0 + 1000)).toBe(1);
        expect(await store.events.get("old-done")).toBeNull();
        expect(await store.events.get("old-open")).not.toBeNull();
        expect(await store.events.get("new-done")).not.toBeNull();
      });
    });

    describe("outbox", () => {
      test("an item round-trips, blocks as JSON text, upload content apart", async () => {
        const blocks = [{ type: "section", text: { type: "mrkdwn", text: "hi" } }];
        const id = await store.outbox.enqueue(post({ eventKey: "ev:1", threadTs: "1.0", blocks, fingerprint: "fp" }), T0);
        expect(await store.outbox.get(id)).toMatchObject({
          id,
          eventKey: "ev:1",
          op: "post",
          channel: "C1",
          threadTs: "1.0",
          text: "reply",
          fingerprint: "fp",
          status: "pending",
          attempts: 0,
          nextAttemptAt: T0,
          createdAt: T0,
          sentTs: null,
          lastError: null,
        });
        expect(JSON.parse((await store.outbox.get(id))?.blocks ?? "null")).toEqual(blocks);
        const up = await store.outbox.enqueue({ op: "upload", channel: "C1", text: "comment", content: "file body", fileName: "f.txt", fileTitle: "F" }, T0);
        const due = (await store.outbox.due(T0)).find((r) => r.id === up);
        expect(due).toMatchObject({ fileName: "f.txt", fileTitle: "F", content: null });
        expect(await store.outbox.content(up)).toBe("file body");
        expect((await store.outbox.get(up))?.content).toBe("file body");
      });

      test("due: pending items whose time came, and sending items whose lease ran out, oldest first", async () => {
        const a = await store.outbox.enqueue(post(), T0);
        const b = await store.outbox.enqueue(post(), T0);
        const c = await store.outbox.enqueue(post(), T0);
        await store.outbox.enqueue(post({ status: "suppressed" }), T0);
        expect(await store.outbox.claim(b, "host:1", T0, T0 + 1000)).not.toBeNull();
        await store.outbox.retryAt(c, T0 + 500, "transient: boom", T0);
        expect((await store.outbox.due(T0)).map((r) => r.id)).toEqual([a]);
        expect((await store.outbox.due(T0 + 500)).map((r) => r.id)).toEqual([a, c]);
        expect((await store.outbox.due(T0 + 1001)).map((r) => r.id)).toEqual([a, b, c]);
        expect(await store.outbox.due(T0 + 1001, 1)).toHaveLength(1);
        expect(await store.outbox.nextDueAt()).toBe(T0);
      });

      test("of two senders claiming at once one wins; each claim counts an attempt; a lapsed lease is taken over", async () => {
        const id = await store.outbox.enqueue(post(), T0);
        const [a, b] = await Promise.all([store.outbox.claim(id, "host:1", T0, T0 + 1000), store.outbox.claim(id, "host:2", T0, T0 + 1000)]);
        expect([a, b].filter(Boolean)).toHaveLength(1);
        expect(await store.outbox.claim(id, "host:3", T0 + 999, T0 + 2000)).toBeNull();
        expect(await store.outbox.claim(id, "host:3", T0 + 1001, T0 + 2000)).not.toBeNull();
        expect(await store.outbox.get(id)).toMatchObject({ status: "sending", attempts: 2, leaseUntil: T0 + 2000 });
        expect(await store.outbox.leaseOwners()).toEqual(["host:3"]);
        expect(await store.outbox.releaseLeases("host:3")).toBe(1);
        expect(await store.outbox.claim(id, "host:4", T0 + 1002, T0 + 2000)).not.toBeNull();
      });

      test("a claim returns the item as claimed, without an upload's content", async () => {
        const blocks = [{ type: "section", text: { type: "mrkdwn", text: "hi" } }];
        const id = await store.outbox.enqueue(post({ eventKey: "ev:1", threadTs: "1.0", blocks, fingerprint: "fp" }), T0);
        const claimed = await store.outbox.claim(id, "host:1", T0 + 5, T0 + 1000);
        expect(claimed).toEqual(await store.outbox.get(id));
        expect(claimed).toMatchObject({ id, eventKey: "ev:1", op: "post", channel: "C1", threadTs: "1.0", text: "reply", status: "sending", attempts: 1, leaseUntil: T0 + 1000, createdAt: T0 });
        expect(JSON.parse(claimed?.blocks ?? "null")).toEqual(blocks);
        const up = await store.outbox.enqueue({ op: "upload", channel: "C1", text: "comment", content: "file body", fileName: "f.txt" }, T0);
        expect(await store.outbox.claim(up, "host:1", T0 + 5, T0 + 1000)).toMatchObject({ id: up, op: "upload", fileName: "f.txt", content: null, attempts: 1 });
        expect(await store.outbox.content(up)).toBe("file body");
      });

      test("sent, retried and failed; failed ones are requeued by replay", async () => {
        const sent = await store.outbox.enqueue(post(), T0);
        const retried = await store.outbox.enqueue(post(), T0);
        const failed = await store.outbox.enqueue(post(), T0);
        for (const id of [sent, retried, failed]) await store.outbox.claim(id, "host:1", T0, T0 + 1000);
        await store.outbox.markSent(sent, "1700000000.000100", T0 + 1);
        await store.outbox.retryAt(retried, T0 + 5000, "ratelimited: slow down", T0 + 1);
        await store.outbox.markFailed(failed, "channel_not_found", T0 + 1);
        expect(await store.outbox.get(sent)).toMatchObject({ status: "sent", sentTs: "1700000000.000100", leaseUntil: null, lastError: null });
        expect(await store.outbox.get(retried)).toMatchObject({ status: "pending", nextAttemptAt: T0 + 5000, lastError: "ratelimited: slow down" });
        expect(await store.outbox.get(failed)).toMatchObject({ status: "failed", lastError: "channel_not_found" });
        expect(await store.outbox.counts()).toEqual({ pending: 1, failed: 1, sent: 1, suppressed: 0 });
        expect((await store.outbox.undelivered()).map((r) => r.id)).toEqual([retried, failed]);
        expect(await store.outbox.nextDueAt()).toBe(T0 + 5000);
        // A rate limit's wait is kept even by replay; a backoff is not.
        expect(await store.outbox.dueNow(retried, T0 + 2)).toBe(false);
        expect(await store.outbox.requeue(sent, T0 + 2)).toBe(false);
        expect(await store.outbox.requeue(failed, T0 + 2)).toBe(true);
        expect(await store.outbox.get(failed)).toMatchObject({ status: "pending", nextAttemptAt: T0 + 2 });
        const backoff = await store.outbox.enqueue(post(), T0);
        await store.outbox.retryAt(backoff, T0 + 9000, "transient: 500", T0);
        expect(await store.outbox.dueNow(backoff, T0 + 3)).toBe(true);
        expect((await store.outbox.get(backoff))?.nextAttemptAt).toBe(T0 + 3);
      });

      test("failed items: newest first, with their error, at most the limit, without content", async () => {
        const ids: number[] = [];
        for (let i = 0; i < 4; i++) {
          const id = await store.outbox.enqueue(post({ op: "upload", content: "big", fileName: `f${i}.txt` }), T0 + i);
          ids.push(id);
          await store.outbox.markFailed(id, `error ${i}`, T0 + 10);
        }
        await store.outbox.enqueue(post(), T0 + 5);
        const failed = await store.outbox.failed(3);
        expect(failed.map((r) => r.id)).toEqual(ids.slice(1).reverse());
        expect(failed.map((r) => r.lastError)).toEqual(["error 3", "error 2", "error 1"]);
        expect(failed.every((r) => r.status === "failed" && r.content === null)).toBe(true);
      });

      test("an item carried by others is suppressed, not sent", async () => {
        const id = await store.outbox.enqueue({ op: "upload", channel: "C1", text: "", content: "x" }, T0);
        await store.outbox.claim(id, "host:1", T0, T0 + 1000);
        await store.outbox.markReplaced(id, "upload refused; sent as 2 messages", T0);
        expect(await store.outbox.get(id)).toMatchObject({ status: "suppressed", lastError: "upload refused; sent as 2 messages" });
        expect(await store.outbox.due(T0 + 5000)).toHaveLength(0);
        expect((await store.outbox.counts()).suppressed).toBe(1);
      });

      test("duplicates by fingerprint: recent, not suppressed ones count", async () => {
        await store.outbox.enqueue(post({ fingerprint: "fp1" }), T0);
        await store.outbox.enqueue(post({ fingerprint: "fp2", status: "suppressed" }), T0);
        expect(await store.outbox.hasRecent("fp1", T0)).toBe(true);
        expect(await store.outbox.hasRecent("fp1", T0 + 1)).toBe(false);
        expect(await store.outbox.hasRecent("fp2", T0)).toBe(false);
      });

      test("an event's items: pending, sending and failed ones", async () => {
        const a = await store.outbox.enqueue(post({ eventKey: "ev:1" }), T0);
        const b = await store.outbox.enqueue(post({ eventKey: "ev:1" }), T0);
        await store.outbox.enqueue(post({ eventKey: "ev:2" }), T0);
        await store.outbox.claim(b, "h:1", T0, T0 + 1);
        await store.outbox.markSent(b, null, T0);
        expect(await store.outbox.idsForEvent("ev:1")).toEqual([a]);
      });

      test("where the bot posted: conversations and threads, newest first", async () => {
        await store.outbox.enqueue(post({ channel: "C1", threadTs: "1.0" }), T0);
        await store.outbox.enqueue(post({ channel: "C1", threadTs: "1.0" }), T0 + 20);
        await store.outbox.enqueue(post({ channel: "C2", threadTs: "2.0" }), T0 + 10);
        await store.outbox.enqueue({ op: "update", channel: "C3", targetTs: "3.0", text: "x" }, T0);
        await store.outbox.enqueue(post({ channel: "C0" }), T0 - 1);
        expect((await store.outbox.postedChannels(T0)).sort()).toEqual(["C1", "C2"]);
        expect(await store.outbox.postedThreads(T0)).toEqual([
          { channel: "C1", threadTs: "1.0", at: T0 + 20 },
          { channel: "C2", threadTs: "2.0", at: T0 + 10 },
        ]);
      });

      test("purge forgets sent and suppressed old items only", async () => {
        const sent = await store.outbox.enqueue(post(), T0);
        await store.outbox.claim(sent, "h", T0, T0 + 1);
        await store.outbox.markSent(sent, "1.1", T0);
        await store.outbox.enqueue(post({ status: "suppressed" }), T0);
        const pending = await store.outbox.enqueue(post(), T0);
        const newer = await store.outbox.enqueue(post({ status: "suppressed" }), T0 + 5000);
        expect(await store.outbox.purge(T0 + 1000)).toBe(2);
        expect(await store.outbox.get(sent)).toBeNull();
        expect(await store.outbox.get(pending)).not.toBeNull();
        expect(await store.outbox.get(newer)).not.toBeNull();
      });
    });

    describe("approvals", () => {
      test("create returns the approval as stored; resume is kept as JSON", async () => {
        const a = await store.approvals.create(approval("ap_1", { reason: "why", threadTs: "1.0", eventKey: "ev:1", resume: { turn: 3 } }), T0);
        expect(a).toEqual({
          id: "ap_1",
          kind: "exec",
          text: "echo hi",
          reason: "why",
          status: "pending",
          requestedBy: "U1",
          channel: "C1",
          threadTs: "1.0",
          eventKey: "ev:1",
          resume: JSON.stringify({ turn: 3 }),
          createdAt: T0,
          expiresAt: T0 + 60_000,
          decidedBy: null,
          decidedAt: null,
          decidedIn: null,
          startedAt: null,
          finishedAt: null,
          exitCode: null,
          output: null,
          pid: null,
          runner: null,
        });
        expect(await store.approvals.get("ap_1")).toEqual(a);
        expect(await store.approvals.get("ap_404")).toBeNull();
        // Without copies named, the card's one copy is in the approval's conversation.
        expect(await store.approvals.cards("ap_1")).toEqual([{ channel: "C1", threadTs: "1.0", ts: null }]);
      });

      test("a card's copies: each posted on its own, in order; purged with their approval", async () => {
        await store.approvals.create(approval("ap_1", { cards: [{ channel: "D2" }, { channel: "D1" }, { channel: "C9", threadTs: "5.5" }] }), T0);
        await store.approvals.setCard("ap_1", "D1", "7.1");
        await store.approvals.setCard("ap_1", "C9", "7.2");
        await store.approvals.setCard("ap_1", "CNOPE", "7.3"); // no such copy: nothing
        expect(await store.approvals.cards("ap_1")).toEqual([
          { channel: "D2", threadTs: null, ts: null },
          { channel: "D1", threadTs: null, ts: "7.1" },
          { channel: "C9", threadTs: "5.5", ts: "7.2" },
        ]);
        await store.approvals.transition("ap_1", ["pending"], "denied", { decidedBy: "UA", decidedAt: T0 + 1, decidedIn: "D1" });
        expect((await store.approvals.get("ap_1"))?.decidedIn).toBe("D1");
        expect(await store.approvals.purge(T0 + 1)).toBe(1);
        expect(await store.approvals.cards("ap_1")).toEqual([]);
      });

      test("a decision counts once, however many race for it", async () => {
        await store.approvals.create(approval("ap_1"), T0);
        const decisions = await Promise.all([
          store.approvals.transition("ap_1", ["pending"], "approved", { decidedBy: "UA", decidedAt: T0 + 1 }),
          store.approvals.transition("ap_1", ["pending"], "denied", { decidedBy: "UB", decidedAt: T0 + 2 }),
          store.approvals.transition("ap_1", ["pending"], "expired", { decidedAt: T0 + 3 }),
        ]);
        expect(decisions.filter(Boolean)).toHaveLength(1);
        expect(["approved", "denied", "expired"]).toContain((await store.approvals.get("ap_1"))?.status ?? "");
        // And one start of an approved job, however many callers.
        await store.approvals.create(approval("ap_2"), T0);
        await store.approvals.transition("ap_2", ["pending"], "approved", { decidedBy: "UA", decidedAt: T0 + 1 });
        const starts = await Promise.all([1, 2, 3].map(() => store.approvals.transition("ap_2", ["approved"], "running", { startedAt: T0 + 5 })));
        expect(starts.filter(Boolean)).toHaveLength(1);
      });

      test("a job's life: running with its pid, finished with its output", async () => {
        await store.approvals.create(approval("ap_1"), T0);
        await store.approvals.setPid("ap_1", 4242); // not running yet: not recorded
        expect((await store.approvals.get("ap_1"))?.pid).toBeNull();
        await store.approvals.setCard("ap_1", "C1", "9.9");
        await store.approvals.transition("ap_1", ["pending"], "approved", { decidedBy: "UA", decidedAt: T0 + 1 });
        await store.approvals.transition("ap_1", ["approved"], "running", { startedAt: T0 + 2, runner: "host-a:7" });
        await store.approvals.setPid("ap_1", 4242);
        expect(await store.approvals.withStatus("running")).toHaveLength(1);
        expect(await store.approvals.transition("ap_1", ["running"], "failed", { finishedAt: T0 + 3, exitCode: 2, output: "boom" })).toBe(true);
        expect(await store.approvals.get("ap_1")).toMatchObject({
          status: "failed",
          decidedBy: "UA",
          decidedAt: T0 + 1,
          startedAt: T0 + 2,
          finishedAt: T0 + 3,
          exitCode: 2,
          output: "boom",
          pid: 4242,
          runner: "host-a:7",
        });
        expect(await store.approvals.transition("ap_1", ["running"], "succeeded")).toBe(false);
      });

      test("listing, expiry and counts", async () => {
        await store.approvals.create(approval("ap_1", { expiresAt: T0 + 10 }), T0);
        await store.approvals.create(approval("ap_2", { expiresAt: T0 + 20 }), T0 + 1);
        await store.approvals.create(approval("ap_3", { expiresAt: T0 + 5 }), T0 + 2);
        await store.approvals.transition("ap_3", ["pending"], "denied");
        expect((await store.approvals.list()).map((a) => a.id)).toEqual(["ap_3", "ap_2", "ap_1"]);
        expect(await store.approvals.list(1)).toHaveLength(1);
        expect((await store.approvals.withStatus("pending")).map((a) => a.id)).toEqual(["ap_1", "ap_2"]);
        expect((await store.approvals.expiredPending(T0 + 15)).map((a) => a.id)).toEqual(["ap_1"]);
        expect(await store.approvals.countByStatus()).toEqual({ pending: 2, denied: 1 });
      });

      test("withStatus with a limit gives the oldest that many", async () => {
        for (let i = 1; i <= 4; i++) await store.approvals.create(approval(`ap_${i}`), T0 + i);
        expect((await store.approvals.withStatus("pending", 2)).map((a) => a.id)).toEqual(["ap_1", "ap_2"]);
        expect(await store.approvals.withStatus("pending")).toHaveLength(4);
      });

      test("purge removes old finished approvals and keeps open ones", async () => {
        const make = (id: string, at: number) => store.approvals.create(approval(id, { expiresAt: at + 1000 }), at);
        await make("old_done", 1000);
        await store.approvals.transition("old_done", ["pending"], "denied");
        await make("old_pending", 1000);
        await make("old_running", 1000);
        await store.approvals.transition("old_running", ["pending"], "running");
        await make("new_done", 5000);
        await store.approvals.transition("new_done", ["pending"], "expired");
        expect(await store.approvals.purge(2000)).toBe(1);
        expect(await store.approvals.get("old_done")).toBeNull();
        for (const id of ["old_pending", "old_running", "new_done"]) expect(await store.approvals.get(id)).not.toBeNull();
      });
    });

    describe("text", () => {
      test("text with a NUL character is stored; the rest of it is kept", async () => {
        // PostgreSQL's text cannot hold U+0000 (job output can): the adapter may replace it.
        const nul = "before\u0000after";
        const ok = (v: string | null | undefined) => v === nul || v === "before\ufffdafter";
        await store.events.record(ev("ev:nul", { text: nul, payload: JSON.stringify({ text: nul }) }), T0);
        expect(ok((await store.events.get("ev:nul"))?.text)).toBe(true);
        const id = await store.outbox.enqueue({ op: "upload", channel: "C1", text: nul, content: nul }, T0);
        expect(ok((await store.outbox.get(id))?.text)).toBe(true);
        expect(ok(await store.outbox.content(id))).toBe(true);
        await store.approvals.create(approval("ap_nul", { text: nul }), T0);
        await store.approvals.transition("ap_nul", ["pending"], "failed", { output: nul });
        expect(ok((await store.approvals.get("ap_nul"))?.output)).toBe(true);
        await store.logs.append(T0, "info", nul, nul);
        expect(ok((await store.logs.tail(1))[0]?.msg)).toBe(true);
      });
    });

    describe("instances", () => {
      test("an announced instance renews; a stopped one is taken over once", async () => {
        await store.instances.announce("a", "host-a", T0);
        await store.instances.announce("b", "host-b", T0 + 1);
        expect(await store.instances.renew("a", T0 + 10)).toBe(true);
        expect(await store.instances.renew("nobody", T0 + 10)).toBe(false);
        expect(await store.instances.list()).toEqual([
          { id: "a", host: "host-a", startedAt: T0, lastSeenAt: T0 + 10, stoppedAt: null, takenOverBy: null },
          { id: "b", host: "host-b", startedAt: T0 + 1, lastSeenAt: T0 + 1, stoppedAt: null, takenOverBy: null },
        ]);
        // Still within its timeout: not dead.
        expect(await store.instances.takeOver("b", "a", T0)).toBe(false);
        await store.instances.stop("b", T0 + 20);
        const [x, y] = await Promise.all([store.instances.takeOver("b", "a", T0), store.instances.takeOver("b", "c", T0)]);
        expect([x, y].filter(Boolean)).toHaveLength(1);
        expect(await store.instances.renew("b", T0 + 30)).toBe(false);
      });

      test("a silent instance is taken over; announcing again starts a new life", async () => {
        await store.instances.announce("a", "host-a", T0);
        await store.instances.announce("b", "host-b", T0);
        await store.instances.renew("a", T0 + 5000);
        expect(await store.instances.takeOver("b", "a", T0 + 1000)).toBe(true);
        expect(await store.instances.takeOver("b", "a", T0 + 1000)).toBe(false);
        expect((await store.instances.list()).find((i) => i.id === "b")).toMatchObject({ takenOverBy: "a", stoppedAt: null });
        // The partition healed: b finds it was taken for dead and announces itself again.
        expect(await store.instances.renew("b", T0 + 6000)).toBe(false);
        await store.instances.announce("b", "host-b", T0 + 6000);
        expect((await store.instances.list()).find((i) => i.id === "b")).toMatchObject({ startedAt: T0 + 6000, takenOverBy: null });
        expect(await store.instances.renew("b", T0 + 6001)).toBe(true);
      });

      test("purge forgets instances taken over long ago", async () => {
        await store.instances.announce("old", "h", T0);
        await store.instances.announce("live", "h", T0);
        await store.instances.takeOver("old", "live", T0 + 1);
        expect(await store.instances.purge(T0 + 1)).toBe(1);
        expect((await store.instances.list()).map((i) => i.id)).toEqual(["live"]);
      });
    });

    describe("leases", () => {
      test("one holder at a time; it renews; an expired lease is taken; release frees it", async () => {
        const [a, b] = await Promise.all([store.leases.acquire("catchup", "a", T0, T0 + 1000), store.leases.acquire("catchup", "b", T0, T0 + 1000)]);
        expect([a, b].filter(Boolean)).toHaveLength(1);
        const holder = a ? "a" : "b";
        const other = a ? "b" : "a";
        expect(await store.leases.acquire("catchup", holder, T0 + 10, T0 + 2000)).toBe(true);
        expect(await store.leases.acquire("catchup", other, T0 + 1500, T0 + 3000)).toBe(false);
        expect(await store.leases.acquire("catchup", other, T0 + 2001, T0 + 3000)).toBe(true);
        await store.leases.release("catchup", holder); // not its any more: nothing happens
        expect(await store.leases.acquire("catchup", holder, T0 + 2002, T0 + 3000)).toBe(false);
        await store.leases.release("catchup", other);
        expect(await store.leases.acquire("catchup", holder, T0 + 2003, T0 + 3000)).toBe(true);
        expect(await store.leases.acquire("heartbeat", holder, T0, T0 + 10)).toBe(true);
        expect(await store.leases.releaseAll(holder)).toBe(2);
        expect(await store.leases.acquire("heartbeat", other, T0, T0 + 10)).toBe(true);
      });
    });

    describe("live messages", () => {
      test("one per event: recorded, its ts set later, forgotten with the final answer's transaction", async () => {
        const live = { eventKey: "msg:C1:1.1", channel: "C1", threadTs: "1.1", ts: null, mode: "stream" as const, createdAt: T0 };
        expect(await store.live.get(live.eventKey)).toBeNull();
        await store.live.put(live);
        expect(await store.live.get(live.eventKey)).toEqual(live);
        await store.live.put({ ...live, ts: "2.2" });
        expect(await store.live.get(live.eventKey)).toEqual({ ...live, ts: "2.2" });
        await store.live.put({ eventKey: "msg:D1:3.3", channel: "D1", threadTs: null, ts: "3.4", mode: "update", createdAt: T0 + 1 });
        await store.tx(async (t) => {
          await t.outbox.enqueue(post({ op: "update", targetTs: "2.2", eventKey: live.eventKey }), T0);
          await t.live.remove(live.eventKey);
        });
        expect(await store.live.get(live.eventKey)).toBeNull();
        expect((await store.live.get("msg:D1:3.3"))?.mode).toBe("update");
        await store.live.remove("msg:nothing");
      });
    });

    describe("usage", () => {
      test("folding old records keeps the totals", async () => {
        for (let i = 0; i < 10; i++) await store.usage.record({ provider: "anthropic", model: "m1", inputTokens: 10, outputTokens: 2, latencyMs: 5 }, 1000 + i);
        await store.usage.record({ provider: "command", model: "x", inputTokens: 1, outputTokens: 1, latencyMs: 5.6, eventKey: "ev:1" }, 5000);
        const before = await store.usage.summary();
        expect(before).toEqual([
          { provider: "anthropic", model: "m1", calls: 10, inputTokens: 100, outputTokens: 20 },
          { provider: "command", model: "x", calls: 1, inputTokens: 1, outputTokens: 1 },
        ]);
        expect(await store.tx((t) => t.usage.fold(1005))).toBe(5);
        expect(await store.usage.summary()).toEqual(before);
        expect(await store.tx((t) => t.usage.fold(10_000))).toBe(6);
        expect(await store.usage.summary()).toEqual(before);
        expect(await store.tx((t) => t.usage.fold(10_000))).toBe(0);
      });
    });

    describe("logs", () => {
      test("appended lines come back in order, the newest kept", async () => {
        for (let i = 0; i < 5; i++) await store.logs.append(T0 + i, i % 2 ? "warn" : "info", `line ${i}`, i === 4 ? '{"k":1}' : undefined);
        expect(await store.logs.count()).toBe(5);
        const tail = await store.logs.tail(2);
        expect(tail.map((l) => [l.level, l.msg, l.fields])).toEqual([
          ["warn", "line 3", null],
          ["info", "line 4", '{"k":1}'],
        ]);
        expect(tail[1]?.at).toBe(T0 + 4);
        expect(await store.logs.usedBytes()).toBeGreaterThan(0);
      });

      test("select pages by id either way, from a time, of some levels (clawdbot logs)", async () => {
        const levels = ["debug", "info", "warn", "error", "critical"];
        for (let i = 0; i < 10; i++) await store.logs.append(1000 + i, levels[i % 5] as string, `line ${i}`);
        const msgs = (rows: { msg: string }[]) => rows.map((r) => r.msg);
        expect(msgs(await store.logs.select({ limit: 3, newestFirst: true }))).toEqual(["line 9", "line 8", "line 7"]);
        expect(msgs(await store.logs.select({ limit: 2 }))).toEqual(["line 0", "line 1"]);
        const third = (await store.logs.select({ limit: 3 }))[2]?.id as number;
        expect(msgs(await store.logs.select({ afterId: third, limit: 2 }))).toEqual(["line 3", "line 4"]);
        expect(msgs(await store.logs.select({ beforeId: third, limit: 5, newestFirst: true }))).toEqual(["line 1", "line 0"]);
        expect(msgs(await store.logs.select({ since: 1007, limit: 10 }))).toEqual(["line 7", "line 8", "line 9"]);
        expect(msgs(await store.logs.select({ levels: ["error", "critical"], limit: 10 }))).toEqual(["line 3", "line 4", "line 8", "line 9"]);
        expect(await store.logs.select({ levels: [], limit: 10 })).toEqual([]);
      });

      test("stays under the retention bound after writing 3x the bound, newest lines kept", async () => {
        const bound = 256 * 1024;
        const small = await open({ logRetentionBytes: bound });
        try {
          const line = "x".repeat(200);
          let written = 0;
          let i = 0;
          while (written < 3 * bound) {
            const msg = `${i++} ${line}`;
            await small.store.logs.append(T0 + i, "info", msg);
            written += msg.length;
          }
          expect(await small.store.logs.usedBytes()).toBeLessThanOrEqual(bound);
          expect((await small.store.logs.tail(1))[0]?.msg.startsWith(`${i - 1} `)).toBe(true);
          expect(await small.store.logs.count()).toBeLessThan(i);
        } finally {
          await small.store.close();
          await small.cleanup();
        }
      });
    });
  });
}
