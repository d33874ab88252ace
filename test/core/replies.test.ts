// Duplicate suppression is a fingerprint column in the outbox with an index and a purge,
// not an in-memory set: after 100k distinct replies memory is flat, the check stays an
// indexed lookup, and purged rows are gone.
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DUPLICATE_WINDOW_MS, fingerprint, queueReply } from "../../src/core/replies.ts";
import type { Store } from "../../src/core/store.ts";
import { openStore, storeLocation } from "../../src/store/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = tempDir();
  store = await openStore(storeLocation({ dataDir: dir }));
});
afterEach(async () => {
  await store.close();
  cleanup(dir);
});

const T0 = Date.parse("2026-01-01T00:00:00Z");

function heapMb(): number {
  Bun.gc(true);
  return process.memoryUsage().heapUsed / 2 ** 20;
}

describe("duplicate suppression", () => {
  test("same text, same conversation, within 5 minutes: suppressed and recorded; later or elsewhere: sent", async () => {
    const q = async (channel: string, text: string, at: number, threadTs?: string) =>
      (await store.tx((t) => queueReply(t, { channel, threadTs, text }, at)))[0] as number;
    const first = await q("C1", "hello", T0);
    const dup = await q("C1", "hello", T0 + DUPLICATE_WINDOW_MS - 1);
    const otherThread = await q("C1", "hello", T0 + 1000, "1.0001");
    const otherChannel = await q("C2", "hello", T0 + 1000);
    const later = await q("C1", "hello", T0 + DUPLICATE_WINDOW_MS + 1);
    expect((await store.outbox.get(first))?.status).toBe("pending");
    expect((await store.outbox.get(dup))?.status).toBe("suppressed");
    expect((await store.outbox.get(otherThread))?.status).toBe("pending");
    expect((await store.outbox.get(otherChannel))?.status).toBe("pending");
    expect((await store.outbox.get(later))?.status).toBe("pending");
    expect((await store.outbox.counts()).suppressed).toBe(1);
  });

  test("100k distinct replies: memory flat, indexed lookup, purge bounds the table", async () => {
    const batch = (from: number, n: number) =>
      store.tx(async (t) => {
        for (let i = from; i < from + n; i++) await queueReply(t, { channel: `C${i % 50}`, text: `reply number ${i}` }, T0 + i);
      });
    await batch(0, 10_000);
    const heapAt10k = heapMb();
    const t1 = performance.now();
    for (let i = 0; i < 10; i++) await batch(10_000 + i * 9_000, 9_000);
    const perInsertUs = ((performance.now() - t1) * 1000) / 90_000;
    const heapAt100k = heapMb();
    expect((await store.outbox.counts()).pending).toBe(100_000);
    // Nothing kept per reply in memory (a 100k-entry set would be several MB).
    expect(heapAt100k - heapAt10k).toBeLessThan(4);
    expect(perInsertUs).toBeLessThan(500);

    // The query plan and a bulk "sent" are SQLite's own business: a second connection to the file.
    const db = new Database(storeLocation({ dataDir: dir }));
    const plan = db
      .query<{ detail: string }, [string, number]>(
        "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE fingerprint = ? AND created_at >= ? AND status != 'suppressed' LIMIT 1",
      )
      .all(fingerprint("C1", undefined, "x"), T0)
      .map((r) => r.detail)
      .join("; ");
    expect(plan).toContain("USING INDEX outbox_fingerprint");

    // The lookup costs the same at 100k rows as at 10k.
    const t2 = performance.now();
    for (let i = 0; i < 10_000; i++) await store.outbox.hasRecent(fingerprint("C1", undefined, `reply number ${i * 10}`), T0);
    const lookupUs = ((performance.now() - t2) * 1000) / 10_000;
    expect(lookupUs).toBeLessThan(200);
    console.log(`queueReply ${perInsertUs.toFixed(1)} µs/reply, hasRecent ${lookupUs.toFixed(1)} µs at 100k rows, heap +${(heapAt100k - heapAt10k).toFixed(2)} MB`);

    // Sent rows past retention go: the suppression table does not grow without bound.
    db.run("UPDATE outbox SET status = 'sent'");
    db.close();
    expect(await store.tx((t) => t.outbox.purge(T0 + 100_000))).toBe(100_000);
    expect((await store.outbox.counts()).sent).toBe(0);
  }, 30_000);
});
