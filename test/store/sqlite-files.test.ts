// The SQLite file itself: a stopped bot leaves one complete .db file, a state dump leaves
// nothing behind (no WAL files another user could own), and a new store is for our user only.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
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
