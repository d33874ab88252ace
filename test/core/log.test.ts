// The runtime logger: never throws, never prints a secret.
import { expect, test } from "bun:test";
import { makeRedactor } from "../../src/core/redact.ts";
import { createLogger } from "../../src/log.ts";

test("fields that JSON cannot serialise (BigInt, cycles) do not make logging throw; an Error keeps its message", () => {
  const log = createLogger({ redact: makeRedactor(["very-secret-value"]), consoleLevel: -999 });
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  expect(() => log.warn("big", { n: 10n })).not.toThrow();
  expect(() => log.error("cycle", { cyclic })).not.toThrow();
  expect(() => log.info("err", { err: new Error("boom very-secret-value") })).not.toThrow();
});

test("fieldsText: stable text, Error message kept and redactable", async () => {
  const { fieldsText } = await import("../../src/log.ts");
  const cyclic: Record<string, unknown> = {};
  cyclic.me = cyclic;
  expect(fieldsText({ n: 10n, c: cyclic })).toBe('{"n":"10","c":{"me":"[circular]"}}');
  expect(makeRedactor(["very-secret-value"])(fieldsText({ e: new Error("x very-secret-value") }))).toBe(
    '{"e":{"name":"Error","message":"x [redacted]"}}',
  );
});
