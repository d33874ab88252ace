import { expect, test } from "bun:test";
import { Semaphore } from "../../src/core/semaphore.ts";

test("at most n holders; waiters go in order", async () => {
  const s = new Semaphore(2);
  let inside = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      await s.acquire();
      inside++;
      peak = Math.max(peak, inside);
      order.push(i);
      await Promise.resolve();
      inside--;
      s.release();
    }),
  );
  expect(peak).toBe(2);
  expect(order).toEqual([0, 1, 2, 3, 4, 5]);
});

test("a waiter that asks `ahead` goes before the others still waiting", async () => {
  const s = new Semaphore(1);
  await s.acquire();
  const order: string[] = [];
  const wait = (name: string, ahead = false) => s.acquire(ahead).then(() => order.push(name));
  const all = [wait("a"), wait("b"), wait("urgent", true), wait("c")];
  for (let i = 0; i < 4; i++) {
    s.release();
    await Promise.resolve();
  }
  await Promise.all(all);
  expect(order).toEqual(["urgent", "a", "b", "c"]);
});
