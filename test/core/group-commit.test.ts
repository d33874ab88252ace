// Group commit on a real SQLite store: the writes of one event-loop turn share a transaction,
// each caller hears back only once its write is committed (visible to another connection),
// and a failing write fails alone.
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, expect, test } from "bun:test";
import { join } from "node:path";
import { groupCommit } from "../../src/core/group-commit.ts";
import type { NewEvent, Store } from "../../src/core/store.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

const ev = (key: string): NewEvent => ({ key, kind: "dm", channel: "D1", ts: "1.1", user: "U1", text: "hi", payload: "{}" });

let dir: string;
let path: string;
let store: Store;
let transactions: number;

beforeEach(() => {
  dir = tempDir("clawdbot-group-commit-");
  path = join(dir, "clawdbot.db");
  store = openSqliteStore(path);
  transactions = 0;
  const tx = store.tx.bind(store);
  store.tx = (fn) => {
    transactions++;
    return tx(fn);
  };
});

afterEach(async () => {
  await store.close();
  cleanup(dir);
});

test("the writes of one turn commit as one transaction; each resolves, with its own result, once another connection sees it", async () => {
  const commit = groupCommit(store);
  const other = new Database(path, { readonly: true });
  const seen = (key: string) => other.query("SELECT key FROM events WHERE key = ?").get(key) !== null;
  const writes = ["ev:a", "ev:b", "ev:c"].map((key) =>
    commit(async (t) => (await t.events.record(ev(key), 1)).fresh).then((fresh) => ({ fresh, committed: seen(key) })),
  );
  // A redelivery in the same turn: the same transaction sees the first record.
  const again = commit(async (t) => (await t.events.record(ev("ev:a"), 2)).fresh);
  expect(await Promise.all(writes)).toEqual([
    { fresh: true, committed: true },
    { fresh: true, committed: true },
    { fresh: true, committed: true },
  ]);
  expect(await again).toBe(false);
  expect(transactions).toBe(1);
  other.close();
});

test("a write that fails fails alone: the others of its turn land", async () => {
  const commit = groupCommit(store);
  const first = commit((t) => t.events.record(ev("ev:1"), 1));
  const bad = commit(async (t) => {
    await t.events.record(ev("ev:bad"), 1);
    throw new Error("boom");
  });
  const last = commit((t) => t.events.record(ev("ev:2"), 1));
  await expect(bad).rejects.toThrow("boom");
  expect((await first).fresh).toBe(true);
  expect((await last).fresh).toBe(true);
  expect(await store.events.get("ev:bad")).toBeNull();
  expect((await store.events.counts()).received).toBe(2);
});

test("writes of later turns commit in a transaction of their own", async () => {
  const commit = groupCommit(store);
  await commit((t) => t.events.record(ev("ev:1"), 1));
  await Promise.all([commit((t) => t.events.record(ev("ev:2"), 1)), commit((t) => t.events.record(ev("ev:3"), 1))]);
  expect(transactions).toBe(2);
});

test("a later write rides with the next write asked for, or commits on its own soon after", async () => {
  const commit = groupCommit(store);
  const later = commit.later((t) => t.events.record(ev("ev:later"), 1));
  await commit((t) => t.events.record(ev("ev:now"), 1));
  expect((await later).fresh).toBe(true);
  expect(transactions).toBe(1);
  const alone = commit.later((t) => t.events.record(ev("ev:alone"), 1));
  expect((await alone).fresh).toBe(true);
  expect(transactions).toBe(2);
});
