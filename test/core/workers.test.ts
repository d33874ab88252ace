// Periodic tasks under supervision (seed 1.8): a task that throws is counted and runs again;
// one that keeps failing is visible; none runs after stop.
import { expect, test } from "bun:test";
import { systemClock } from "../../src/core/clock.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { FAILING_AFTER, Workers } from "../../src/core/workers.ts";
import { waitFor } from "../helpers/bot.ts";

test("a failing worker keeps running, is counted and shows as failing; a good one is unaffected", async () => {
  const log = memoryLogger();
  const w = new Workers(systemClock, log);
  let good = 0;
  w.add("bad", 2, () => {
    throw new Error("boom");
  });
  w.add("async-bad", 2, async () => {
    throw new Error("async boom");
  });
  w.add("good", 2, () => void good++);
  await waitFor(() => (w.stats().bad?.failures ?? 0) >= FAILING_AFTER && (w.stats()["async-bad"]?.failures ?? 0) >= FAILING_AFTER, "failures");
  expect(w.failing().sort()).toEqual(["async-bad", "bad"]);
  expect(w.stats().bad?.last_error).toBe("boom");
  expect(good).toBeGreaterThan(0);
  expect(log.lines.some((l) => l.level === "error" && l.msg.includes("worker bad failed"))).toBe(true);
  await w.stop(100);
  const after = good;
  await Bun.sleep(20); // a stopped worker must stay stopped: give it several periods to misbehave
  expect(good).toBe(after);
});

test("a worker that recovers is no longer failing", async () => {
  const w = new Workers(systemClock, memoryLogger());
  let n = 0;
  w.add("flaky", 2, () => {
    if (n++ < FAILING_AFTER) throw new Error("not yet");
  });
  await waitFor(() => (w.stats().flaky?.runs ?? 0) > FAILING_AFTER + 1, "recovery");
  expect(w.failing()).toEqual([]);
  expect(w.stats().flaky?.consecutive_failures).toBe(0);
  await w.stop(100);
});

test("trigger runs a worker now", async () => {
  const w = new Workers(systemClock, memoryLogger());
  let runs = 0;
  w.add("daily", 24 * 60 * 60 * 1000, () => void runs++);
  w.trigger("daily");
  await waitFor(() => runs === 1, "triggered run");
  await w.stop(100);
});
