// Presence on a real store with a driven clock: who is dead, when, and that one instance
// takes each dead one over.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Clock } from "../../src/core/clock.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { Presence } from "../../src/core/presence.ts";
import type { Instance, Store } from "../../src/core/store.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

const TIMEOUT = 2000;
let dir: string;
let store: Store;
let now: number;
const clock: Clock = { now: () => now, mono: () => now, setTimeout, clearTimeout };

beforeEach(() => {
  dir = tempDir();
  store = openSqliteStore(join(dir, "clawdbot.db"));
  now = Date.parse("2026-01-01T00:00:00Z");
});
afterEach(async () => {
  await store.close();
  cleanup(dir);
});

function instance(id: string, host = "host-a", exclusive = false) {
  const taken: string[][] = [];
  const p = new Presence({
    store,
    clock,
    log: memoryLogger(),
    id,
    host,
    timeoutMs: TIMEOUT,
    exclusive,
    takenOver: async (dead: Instance[]) => void taken.push(dead.map((d) => d.id)),
  });
  return { p, taken };
}

describe("presence", () => {
  test("a peer silent for the timeout is taken over once, its leases freed at once", async () => {
    const a = instance("a");
    const b = instance("b");
    const c = instance("c");
    await a.p.start();
    await b.p.start();
    await c.p.start();
    await store.events.record({ key: "ev:1", kind: "dm", payload: "{}" }, now);
    await store.events.claim("ev:1", "b", now, now + 60_000);
    now += TIMEOUT; // a and c renew; b has gone silent
    await a.p.tick();
    await c.p.tick();
    expect(a.taken).toEqual([]);
    expect(a.p.live).toBe(3);
    now += 1;
    await Promise.all([a.p.tick(), c.p.tick()]);
    expect([...a.taken, ...c.taken]).toEqual([["b"]]);
    expect(a.p.live).toBe(2);
    expect(await store.events.claim("ev:1", "a", now, now + 1000)).toBe(true);
    now += 500;
    await a.p.tick();
    await c.p.tick();
    expect([...a.taken, ...c.taken]).toHaveLength(1);
  });

  test("after an outage everyone was silent: nobody is taken over until the store was reachable for a timeout", async () => {
    const a = instance("a");
    const b = instance("b");
    await a.p.start();
    await b.p.start();
    const renew = store.instances.renew;
    store.instances.renew = () => Promise.reject(new Error("database unreachable"));
    now += 5 * TIMEOUT;
    await expect(a.p.tick()).rejects.toThrow("unreachable");
    store.instances.renew = renew;
    now += 100;
    await a.p.tick(); // b has not had the chance to renew yet
    expect(a.taken).toEqual([]);
    await b.p.tick();
    now += TIMEOUT + 1;
    await a.p.tick();
    expect(a.taken).toEqual([["b"]]); // b then stayed silent for a whole timeout
  });

  test("a graceful stop is taken over at the next look, without waiting for the timeout", async () => {
    const a = instance("a");
    const b = instance("b");
    await a.p.start();
    await b.p.start();
    await b.p.stop();
    now += 10;
    await a.p.tick();
    expect(a.taken).toEqual([["b"]]);
  });

  test("SQLite: the one process takes over every instance on record when it starts", async () => {
    const old = instance("host-a:100", "host-a");
    await old.p.start();
    now += 50; // killed a moment ago: not silent for long, but SQLite has one process per store
    const next = instance("host-a:200", "host-a", true);
    await next.p.start();
    expect(next.taken).toEqual([["host-a:100"]]);
  });

  test("taken for dead after a partition, an instance announces itself again", async () => {
    const a = instance("a");
    const b = instance("b");
    await a.p.start();
    await b.p.start();
    now += TIMEOUT + 1;
    await a.p.tick();
    expect(a.taken).toEqual([["b"]]);
    await b.p.tick(); // its renewal finds the row taken over
    expect((await store.instances.list()).find((i) => i.id === "b")).toMatchObject({ takenOverBy: null, lastSeenAt: now });
    expect(a.p.live).toBe(1);
    await a.p.tick();
    expect(a.p.live).toBe(2);
  });

  test("work that could not be finished after a takeover is tried again at the next tick", async () => {
    let fail = true;
    const seen: string[] = [];
    const a = new Presence({
      store,
      clock,
      log: memoryLogger(),
      id: "a",
      host: "h",
      timeoutMs: TIMEOUT,
      exclusive: false,
      takenOver: async (dead) => {
        if (fail) throw new Error("store blip");
        seen.push(...dead.map((d) => d.id));
      },
    });
    await a.start();
    await instance("b").p.start();
    now += TIMEOUT + 1;
    await expect(a.tick()).rejects.toThrow("store blip");
    fail = false;
    await a.tick();
    expect(seen).toEqual(["b"]);
  });

  test("where a running job's process was: here, on another host, or its runner lives", async () => {
    const a = instance("a", "host-a");
    await a.p.start();
    await instance("b", "host-b").p.start();
    await instance("c", "host-a").p.start();
    now += TIMEOUT + 1;
    await store.instances.renew("c", now);
    await a.p.tick();
    const job = (runner: string | null) => ({ runner, startedAt: now }) as Parameters<Presence["jobPlace"]>[0];
    expect(a.p.jobPlace(job("b"))).toBe("elsewhere");
    expect(a.p.jobPlace(job("c"))).toBeNull();
    expect(a.p.jobPlace(job("a"))).toBe("here");
    expect(a.p.jobPlace(job(null))).toBe("here");
    expect(a.p.jobPlace(job("purged-long-ago"))).toBe("elsewhere");
  });
});
