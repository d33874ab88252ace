// A stopped bot leaves one complete .db file, and a state dump leaves nothing behind
// (no WAL files another user could own).
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Store } from "../../src/store/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

test("close removes the WAL files; a reader neither writes nor leaves files", () => {
  const path = join(dir, "clawdbot.db");
  const s = Store.open(path);
  s.settings.setPaused(true, 1);
  s.close();
  expect(existsSync(`${path}-wal`) || existsSync(`${path}-shm`)).toBe(false);

  const r = Store.open(path, { readonly: true });
  expect(r.settings.isPaused()).toBe(true);
  expect(() => r.settings.setPaused(false, 2)).toThrow();
  r.db.close(true);
  expect(existsSync(`${path}-wal`) || existsSync(`${path}-shm`)).toBe(false);
});
