// The SQLite adapter's turn-taking on its one connection: free, a call runs at once (no
// timer, no extra turn); while a transaction holds it, calls wait in order; a transaction
// that holds it too long (a body awaiting the root store, a bug) fails the waiting calls
// instead of hanging every store call of the process.
import { expect, test } from "bun:test";
import { StoreError } from "../../src/core/store.ts";
import { ConnectionLock } from "../../src/store/sqlite/lock.ts";

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
