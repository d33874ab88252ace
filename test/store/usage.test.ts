// Usage stays bounded: old rows fold into totals, and the sums state dump shows do not change.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Store } from "../../src/store/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

test("folding old rows keeps the totals", () => {
  const s = Store.open(join(dir, "usage.db"));
  for (let i = 0; i < 10; i++) s.usage.record({ provider: "anthropic", model: "m1", inputTokens: 10, outputTokens: 2, latencyMs: 5 }, 1000 + i);
  s.usage.record({ provider: "command", model: "x", inputTokens: 1, outputTokens: 1, latencyMs: 5 }, 5000);
  const before = s.usage.summary();
  expect(s.tx(() => s.usage.fold(1005))).toBe(5);
  expect(s.usage.summary()).toEqual(before);
  expect(s.tx(() => s.usage.fold(10_000))).toBe(6);
  expect(s.usage.summary()).toEqual(before);
  expect(s.db.query<{ n: number }, []>("SELECT count(*) AS n FROM usage").get()?.n).toBe(0);
  expect(before).toEqual([
    { provider: "anthropic", model: "m1", calls: 10, input_tokens: 100, output_tokens: 20 },
    { provider: "command", model: "x", calls: 1, input_tokens: 1, output_tokens: 1 },
  ]);
  s.close();
});
