// The receiver on a real SQLite store: an event to answer is acked only once its record is
// committed (visible to another connection); one that needs no answer (our own message
// coming back, another event type) is acked at once and writes nothing.
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, expect, test } from "bun:test";
import { join } from "node:path";
import { systemClock } from "../../src/core/clock.ts";
import { groupCommit } from "../../src/core/group-commit.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { Receiver } from "../../src/core/receiver.ts";
import type { Store } from "../../src/core/store.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

const me = { botUserId: "UBOT", botId: "BBOT" };
const cb = (event: Record<string, unknown>, event_id: string) => ({ type: "event_callback", event_id, event });

let dir: string;
let path: string;
let store: Store;
let writes: number;

beforeEach(() => {
  dir = tempDir("clawdbot-receiver-");
  path = join(dir, "clawdbot.db");
  store = openSqliteStore(path);
  writes = 0;
  const tx = store.tx.bind(store);
  store.tx = (fn) => {
    writes++;
    return tx(fn);
  };
});

afterEach(async () => {
  await store.close();
  cleanup(dir);
});

function receiver(processed: string[], canaries: number[]): Receiver {
  return new Receiver({
    commit: groupCommit(store),
    clock: systemClock,
    log: memoryLogger(),
    identity: () => me,
    process: (key) => processed.push(key),
    onTerminal: () => {},
    onCanary: () => canaries.push(1),
  });
}

test("a DM is acked only once its record is committed, then answered", async () => {
  const processed: string[] = [];
  const r = receiver(processed, []);
  const other = new Database(path, { readonly: true });
  let seenAtAck: unknown = "not acked";
  const dm = cb({ type: "message", channel_type: "im", channel: "D1", user: "U1", text: "hi", ts: "1.1" }, "Ev1");
  expect(await r.handle("events_api", dm, () => (seenAtAck = other.query("SELECT status FROM events WHERE key = 'msg:D1:1.1'").get()))).toBe(true);
  other.close();
  expect(seenAtAck).toEqual({ status: "received" });
  expect(processed).toEqual(["msg:D1:1.1"]);
  expect(writes).toBe(1);
});

test("our own message coming back and other event types are acked at once, with nothing written", async () => {
  const processed: string[] = [];
  const canaries: number[] = [];
  const r = receiver(processed, canaries);
  let acks = 0;
  const own = cb({ type: "message", channel_type: "im", channel: "D1", user: "UBOT", bot_id: "BBOT", text: "echo", ts: "1.2" }, "Ev2");
  // Acked before handle's promise settles: no transaction to wait for.
  const handled = r.handle("events_api", own, () => acks++);
  expect(acks).toBe(1);
  expect(await handled).toBe(true);
  expect(await r.handle("events_api", cb({ type: "reaction_added" }, "Ev3"), () => acks++)).toBe(true);
  expect(acks).toBe(2);
  expect(canaries).toEqual([1]);
  expect(processed).toEqual([]);
  expect(writes).toBe(0);
  expect(await store.events.counts()).toEqual({});
  expect(r.received).toBe(2);
});
