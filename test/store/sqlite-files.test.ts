// The SQLite file itself: a stopped bot leaves one complete .db file, a state dump leaves
// nothing behind (no WAL files another user could own), a new store is for our user only,
// and a damaged file is named with what to do.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StoreError } from "../../src/core/store.ts";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

const mode = (p: string) => statSync(p).mode & 0o777;

test("close removes the WAL files; a reader neither writes nor leaves files", async () => {
  const path = join(dir, "clawdbot.db");
  const s = openSqliteStore(path);
  await s.settings.setPaused(true, 1);
  await s.close();
  expect(existsSync(`${path}-wal`) || existsSync(`${path}-shm`)).toBe(false);

  const r = openSqliteStore(path, { readonly: true });
  expect(await r.settings.isPaused()).toBe(true);
  await expect(r.settings.setPaused(false, 2)).rejects.toThrow();
  await r.close();
  expect(existsSync(`${path}-wal`) || existsSync(`${path}-shm`)).toBe(false);
});

test.skipIf(process.platform === "win32")("a new data dir is 0700 and a new store file 0600, its WAL files too", async () => {
  const dataDir = join(dir, "fresh", "clawdbot");
  const path = join(dataDir, "clawdbot.db");
  const s = openSqliteStore(path);
  await s.events.record({ key: "ev:1", kind: "dm", payload: "{}" }, 1);
  expect(mode(dataDir)).toBe(0o700);
  expect(mode(path)).toBe(0o600);
  expect(mode(`${path}-wal`)).toBe(0o600);
  expect(mode(`${path}-shm`)).toBe(0o600);
  await s.close();
});

test.skipIf(process.platform === "win32")("an existing data dir keeps the mode its operator gave it", async () => {
  const dataDir = join(dir, "shared");
  mkdirSync(dataDir);
  chmodSync(dataDir, 0o750);
  const s = openSqliteStore(join(dataDir, "clawdbot.db"));
  expect(mode(dataDir)).toBe(0o750);
  expect(mode(join(dataDir, "clawdbot.db"))).toBe(0o600);
  await s.close();
});

test("a file that is not a store: a StoreError naming the file and what to do, for the bot and a reader", async () => {
  const path = join(dir, "garbage.db");
  writeFileSync(path, "this is not sqlite, just some text that is long enough to be read as a header".repeat(20));
  for (const readonly of [false, true]) {
    let err: unknown;
    try {
      openSqliteStore(path, { readonly });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toStartWith(`the store ${path} is damaged or not a clawdbot store`);
    expect((err as StoreError).message).toContain("restore it from a backup, or move it aside");
  }
});

test("an empty file is no store for a reader", () => {
  const path = join(dir, "empty.db");
  writeFileSync(path, "");
  expect(() => openSqliteStore(path, { readonly: true })).toThrow("holds no clawdbot data");
});
