import { expect, test } from "bun:test";
import { systemClock } from "../../src/core/clock.ts";
import { ConnectionHistory } from "../../src/core/connection-history.ts";

test("the ring keeps the newest `size` events, newest first", () => {
  let t = 0;
  const h = new ConnectionHistory({ ...systemClock, now: () => ++t }, 3);
  for (const why of ["a", "b", "c", "d", "e"]) h.record("failed", why);
  expect(h.recent().map((e) => [e.at, e.detail])).toEqual([
    [5, "e"],
    [4, "d"],
    [3, "c"],
  ]);
  expect(h.recent(1).map((e) => e.detail)).toEqual(["e"]);
  // The first failure of this outage is gone from the ring, but not from downSince.
  expect(h.downSince).toBe(1);
  h.record("refresh", "warning");
  expect(h.downSince).toBe(1);
  h.record("connected");
  expect(h.downSince).toBeNull();
  expect(new ConnectionHistory(systemClock).recent()).toEqual([]);
});
