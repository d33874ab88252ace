import { afterEach, describe, expect, test } from "bun:test";
import { memoryLogger } from "../../src/core/logger.ts";
import { RelayClient } from "../../src/relay/client.ts";
import { type RelayStandIn, startRelayStandIn } from "../stand-ins/relay.ts";

const req = { channel: "C1", thread_ts: "1700000000.000100", user: "U1", text: "hello" };
const entry = {
  direction: "in" as const,
  event_id: "Ev1",
  channel: "C1",
  ts: "1700000000.000200",
  thread_ts: undefined,
  user: "U1",
  text: "hello",
};

let relay: RelayStandIn | undefined;
afterEach(() => relay?.stop());

function client(url: string, extra: Partial<ConstructorParameters<typeof RelayClient>[0]> = {}) {
  const log = memoryLogger();
  const c = new RelayClient({ url, log, timeoutMs: 200, attempts: 2, retryDelayMs: 10, ...extra });
  return { c, log };
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

describe("RelayClient", () => {
  test("ok: context returned and /log recorded", async () => {
    relay = startRelayStandIn({
      mode: { mode: "ok", messages: [{ role: "user", text: "earlier" }, { role: "assistant", text: "reply" }] },
    });
    const { c } = client(relay.url + "/");
    expect(await c.context(req)).toEqual([
      { role: "user", text: "earlier" },
      { role: "assistant", text: "reply" },
    ]);
    expect(relay.callsTo("/context")[0]?.body).toEqual(req);

    c.log(entry);
    expect(await c.flush(1000)).toBe(true);
    expect(relay.callsTo("/log")[0]?.body).toEqual({ ...entry, thread_ts: null });
    expect(c.failures).toBe(0);
    expect(c.pending).toBe(0);
  });

  test("down: [] quickly, one failure after 2 attempts, logged with the count", async () => {
    relay = startRelayStandIn();
    relay.setMode({ mode: "down" });
    const { c, log } = client(relay.url);
    const t0 = Date.now();
    expect(await c.context(req)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(400);
    expect(c.failures).toBe(1);
    expect(c.lastError).toContain("/context");
    const warn = log.lines.find((l) => l.level === "warn");
    expect(warn?.msg).toBe("relay /context failed after 2 attempts: connection refused (failures: 1)");
  });

  test("slow beyond the timeout: [] within about attempts x timeout, counted", async () => {
    relay = startRelayStandIn({ mode: { mode: "slow", delayMs: 1000 } });
    const { c, log } = client(relay.url);
    const t0 = Date.now();
    expect(await c.context(req)).toEqual([]);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(800);
    expect(relay.callsTo("/context").length).toBe(2);
    expect(c.failures).toBe(1);
    expect(log.lines[0]?.msg).toContain("timed out after 200 ms (failures: 1)");
  });

  test("500: both attempts made, counted", async () => {
    relay = startRelayStandIn({ mode: { mode: "error" } });
    const { c, log } = client(relay.url);
    expect(await c.context(req)).toEqual([]);
    expect(relay.callsTo("/context").length).toBe(2);
    expect(c.failures).toBe(1);
    expect(log.lines[0]?.msg).toBe("relay /context failed after 2 attempts: HTTP 500 (failures: 1)");
  });

  test("a bad answer is a failure", async () => {
    relay = startRelayStandIn({ mode: { mode: "bad" } });
    const { c } = client(relay.url);
    expect(await c.context(req)).toEqual([]);
    expect(c.failures).toBe(1);
    expect(c.lastError).toContain("bad answer");
  });

  test("success after failure keeps the running total", async () => {
    relay = startRelayStandIn({ mode: { mode: "error" } });
    const { c, log } = client(relay.url);
    await c.context(req);
    c.log(entry);
    await c.flush(1000);
    expect(c.failures).toBe(2);
    expect(log.lines.at(-1)?.msg).toBe("relay /log failed after 2 attempts: HTTP 500 (failures: 2)");

    relay.setMode({ mode: "ok", messages: [{ role: "user", text: "x" }] });
    expect(await c.context(req)).toEqual([{ role: "user", text: "x" }]);
    c.log(entry);
    await c.flush(1000);
    expect(c.failures).toBe(2);

    // Back from down on the same port.
    relay.setMode({ mode: "down" });
    expect(await c.context(req)).toEqual([]);
    expect(c.failures).toBe(3);
    relay.setMode({ mode: "ok" });
    expect(await c.context(req)).toEqual([]);
    expect(c.failures).toBe(3);
  });

  test("log() returns at once, never throws, and is bounded", async () => {
    relay = startRelayStandIn({ mode: { mode: "slow", delayMs: 150 } });
    const { c, log } = client(relay.url, { maxInFlight: 5, attempts: 1 });
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) c.log({ ...entry, event_id: `Ev${i}` });
    expect(Date.now() - t0).toBeLessThan(50);
    expect(c.pending).toBe(5);
    expect(c.failures).toBe(15);
    // One warn for the whole streak of drops.
    expect(log.lines.filter((l) => l.msg.includes("dropped")).length).toBe(1);
    expect(await c.flush(1000)).toBe(true);
    expect(c.pending).toBe(0);
    await waitFor(() => relay!.callsTo("/log").length === 5);
    expect(c.failures).toBe(15);
  });

  test("log() against a dead relay never throws or rejects", async () => {
    relay = startRelayStandIn();
    relay.setMode({ mode: "down" });
    const { c } = client(relay.url);
    expect(() => c.log(entry)).not.toThrow();
    // Not even with something JSON can't encode.
    expect(() => c.log({ ...entry, text: 1n as unknown as string })).not.toThrow();
    await c.flush(1000);
    expect(c.failures).toBe(2);
  });

  test("flush gives up after its timeout", async () => {
    relay = startRelayStandIn({ mode: { mode: "slow", delayMs: 150 } });
    const { c } = client(relay.url, { timeoutMs: 1000 });
    c.log(entry);
    const t0 = Date.now();
    expect(await c.flush(30)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(100);
    expect(await c.flush(1000)).toBe(true);
    expect(c.failures).toBe(0);
  });
});
