import { describe, expect, test } from "bun:test";
import { backoffDelay, JITTER } from "../../src/core/backoff.ts";

const p = (r: number) => ({ initialMs: 5000, maxMs: 300_000, random: () => r });

describe("backoffDelay", () => {
  test("the first attempt after a drop is immediate", () => {
    expect(backoffDelay(0, p(0.99))).toBe(0);
    expect(backoffDelay(-1, p(0.5))).toBe(0);
  });

  test("doubles from the initial delay", () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, p(0)))).toEqual([5000, 10_000, 20_000, 40_000, 80_000]);
  });

  test("is capped at the maximum, even with jitter and huge failure counts", () => {
    for (const n of [7, 8, 20, 100, 10_000]) {
      for (const r of [0, 0.5, 0.999]) expect(backoffDelay(n, p(r))).toBeLessThanOrEqual(300_000);
    }
    expect(backoffDelay(100, p(0))).toBe(300_000);
  });

  test("jitter is at most 30% and spreads delays, also at the cap", () => {
    expect(JITTER).toBe(0.3);
    for (const n of [1, 3, 6]) {
      const base = backoffDelay(n, p(0));
      const most = backoffDelay(n, p(0.9999));
      expect(most).toBeGreaterThan(base);
      expect(most).toBeLessThanOrEqual(base * 1.3);
    }
    const capped = [0, 0.5, 0.9999].map((r) => backoffDelay(50, p(r)));
    expect(new Set(capped).size).toBe(3);
    for (const d of capped) expect(d).toBeGreaterThanOrEqual(300_000 * 0.7);
  });

  test("with real randomness every delay stays within [base, base * 1.3]", () => {
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(2, { initialMs: 100, maxMs: 10_000 });
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(260);
    }
  });
});
