// The SQLite adapter's turn-taking on its one connection: free, a call runs at once (no
// timer, no extra turn); while a transaction holds it, calls wait in order; a transaction
// that holds it too long (a body awaiting the root store, a bug) fails the waiting calls
// instead of hanging every store call of the process. Another process's lock on the file is
// waited for asynchronously, up to the busy timeout.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { StoreError } from "../../src/core/store.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { ConnectionLock } from "../../src/store/sqlite/lock.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

test("uncontended, a call runs synchronously", () => {
  const lock = new ConnectionLock("test", 1000);
  let ran = false;
  void lock.run(() => {
    ran = true;
  });
  expect(ran).toBe(true);
});

test("while a transaction holds the connection, calls and transactions wait their turn, in order", async () => {
  const lock = new ConnectionLock("test", 1000);
  const order: string[] = [];
  expect(lock.acquire()).toBeUndefined();
  const a = lock.run(() => order.push("a"));
  const tx = lock.acquire();
  const b = lock.run(() => order.push("b"));
  order.push("holder");
  lock.release();
  expect(order).toEqual(["holder", "a"]);
  await tx;
  expect(lock.inTransaction).toBe(true);
  order.push("second tx");
  lock.release();
  await Promise.all([a, b]);
  expect(order).toEqual(["holder", "a", "second tx", "b"]);
  expect(lock.inTransaction).toBe(false);
});

test("a transaction held too long fails the calls waiting for it with a StoreError", async () => {
  const lock = new ConnectionLock("/data/clawdbot.db", 50);
  lock.acquire();
  const waiting = lock.run(() => "never");
  await expect(waiting).rejects.toBeInstanceOf(StoreError);
  await expect(waiting).rejects.toThrow("the store /data/clawdbot.db was held by one transaction for over 0.05 s");
  lock.release();
  expect(await lock.run(() => "now")).toBe("now");
});

describe("another process holding the file's write lock", () => {
  const dir = tempDir();
  afterAll(() => cleanup(dir));

  test("a write waits for it without blocking the process, then lands", async () => {
    const path = join(dir, "waits.db");
    const store = openSqliteStore(path, { busyTimeoutMs: 2000 });
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const write = store.tx((t) => t.settings.setPaused(true, 1));
    const single = store.events.record({ key: "ev:1", kind: "dm", payload: "{}" }, 1);
    await Bun.sleep(300);
    other.run("ROLLBACK");
    await Promise.all([write, single]);
    clearInterval(timer);
    // The loop kept turning while the writes waited (a blocking busy wait would have frozen it).
    expect(ticks).toBeGreaterThan(10);
    expect(await store.settings.isPaused()).toBe(true);
    expect(await store.events.get("ev:1")).not.toBeNull();
    other.close();
    await store.close();
  });

  test("held past the busy timeout: the write fails with a StoreError saying the file is locked", async () => {
    const path = join(dir, "locked.db");
    const store = openSqliteStore(path, { busyTimeoutMs: 200 });
    const other = new Database(path);
    other.run("BEGIN IMMEDIATE");
    await expect(store.events.record({ key: "ev:1", kind: "dm", payload: "{}" }, 1)).rejects.toThrow("is locked by another process");
    await expect(store.tx((t) => t.settings.setPaused(true, 1))).rejects.toBeInstanceOf(StoreError);
    // Reads still work (WAL): only writes wait for the lock.
    expect(await store.settings.isPaused()).toBe(false);
    other.run("ROLLBACK");
    other.close();
    await store.settings.setPaused(true, 2);
    expect(await store.settings.isPaused()).toBe(true);
    await store.close();
  });
});
