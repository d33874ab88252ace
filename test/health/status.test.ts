import { expect, test } from "bun:test";
import { judgeStatus, type StatusInputs } from "../../src/health/status.ts";

const up = { connected: true, connectedOnce: true, failuresTotal: 0, lastError: null, lastActivityAt: 1_000 };
const base: StatusInputs = { mono: 2_000, staleAfterMs: 600_000, revokedReason: null, socket: up, identityKnown: true, canary: "off", failingWorkers: [] };
const status = (over: Partial<StatusInputs>) => judgeStatus({ ...base, ...over }).status;

test("connected and hearing Slack: ok", () => expect(status({})).toBe("ok"));
test("a quiet workspace is ok while pings and pongs flow", () => expect(status({ mono: 500_000 })).toBe("ok"));
test("connected but nothing at all for CLAWDBOT_STALE_AFTER: stale", () => expect(status({ mono: 700_000 })).toBe("stale"));
test("stale says for how long, in words", () =>
  expect(judgeStatus({ ...base, mono: 661_000 }).reason).toBe("nothing received from Slack for 11 min"));
test("missed canary: stale", () => expect(status({ canary: "missed" })).toBe("stale"));
test("never connected yet: starting; after a failure or a drop: disconnected", () => {
  expect(status({ socket: { ...up, connected: false, connectedOnce: false } })).toBe("starting");
  expect(status({ socket: { ...up, connected: false, connectedOnce: false, failuresTotal: 1 } })).toBe("disconnected");
  expect(status({ socket: { ...up, connected: false } })).toBe("disconnected");
});
test("revoked wins over everything", () => expect(status({ revokedReason: "invalid_auth", socket: { ...up, connected: false } })).toBe("revoked"));
test("http mode: starting until auth.test answered, then ok", () => {
  expect(status({ socket: null, identityKnown: false })).toBe("starting");
  expect(status({ socket: null })).toBe("ok");
});
test("failing workers are named but keep ok", () => {
  expect(judgeStatus({ ...base, failingWorkers: ["heartbeat"] })).toEqual({ status: "ok", reason: "workers failing: heartbeat" });
});
test("the store cannot be written: store_unavailable, over a socket that is fine or down; revoked still wins", () => {
  expect(judgeStatus({ ...base, storeProblem: "database or disk is full" })).toEqual({
    status: "store_unavailable",
    reason: "the store cannot be used: database or disk is full",
  });
  expect(status({ storeProblem: "x", socket: { ...up, connected: false } })).toBe("store_unavailable");
  expect(status({ storeProblem: "x", revokedReason: "invalid_auth" })).toBe("revoked");
});
