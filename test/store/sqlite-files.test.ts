// The SQLite file itself: a stopped bot leaves one complete .db file, and a state dump leaves
// nothing behind (no WAL files another user could own).
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

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
