import { createHmac } from "node:crypto";
import { describe, expect, test } from "bun:test";
import { slackSignature, verifySlackSignature } from "../../src/slack/signature.ts";

const secret = "8f742231b10e8888abcd99yyyzzz85a5";
const body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&command=%2Fclaw&text=hello";
const ts = "1531420618";
const now = Number(ts) * 1000;
// Computed independently of the module under test.
const good = "v0=" + createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex");

describe("verifySlackSignature", () => {
  test("a correct signature passes", () => {
    expect(verifySlackSignature({ signingSecret: secret, body, timestamp: ts, signature: good, now })).toEqual({ ok: true });
    expect(slackSignature(secret, ts, body)).toBe(good);
  });

  test("within tolerance on either side passes", () => {
    expect(verifySlackSignature({ signingSecret: secret, body, timestamp: ts, signature: good, now: now + 299_000 }).ok).toBe(true);
    expect(verifySlackSignature({ signingSecret: secret, body, timestamp: ts, signature: good, now: now - 299_000 }).ok).toBe(true);
  });

  const bad: [string, Partial<Parameters<typeof verifySlackSignature>[0]>][] = [
    ["a wrong signature", { signature: good.slice(0, -1) + (good.endsWith("0") ? "1" : "0") }],
    ["a signature of another length", { signature: "v0=abc" }],
    ["a different body (one byte)", { body: body + " " }],
    ["a different secret", { signingSecret: secret + "x" }],
    ["a missing signature", { signature: null }],
    ["a missing timestamp", { timestamp: null }],
    ["a malformed timestamp", { timestamp: "12a" }],
    ["a stale timestamp", { now: now + 301_000 }],
    ["a future timestamp", { now: now - 301_000 }],
    ["an empty secret", { signingSecret: "" }],
  ];
  for (const [name, over] of bad) {
    test(`${name} fails with a reason`, () => {
      const r = verifySlackSignature({ signingSecret: secret, body, timestamp: ts, signature: good, now, ...over });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
    });
  }

  test("stale reason says so; tolerance is configurable", () => {
    const r = verifySlackSignature({ signingSecret: secret, body, timestamp: ts, signature: good, now: now + 61_000, toleranceS: 60 });
    expect(r).toEqual({ ok: false, reason: "timestamp 61 s away from now (limit 60 s)" });
  });

  test("the secret never appears in a reason", () => {
    const r = verifySlackSignature({ signingSecret: secret, body, timestamp: ts, signature: "v0=00", now });
    expect(JSON.stringify(r)).not.toContain(secret);
  });
});
