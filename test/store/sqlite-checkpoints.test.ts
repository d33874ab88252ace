// Background checkpoints: a worker thread copies what the bot commits into the database file
// between the bot's own checkpoints (which are then short), and a closed store still leaves
// one complete file.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanup, tempDir, waitFor } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

/** ~300 WAL pages: below the 1,000 (4,000 with the worker) at which the bot's own connection checkpoints. */
async function write(path: string, background: boolean): Promise<{ close(): Promise<void> }> {
  const s = openSqliteStore(path, { backgroundCheckpoints: background });
  for (let i = 0; i < 60; i++) {
    await s.tx(async (t) => {
      for (let j = 0; j < 5; j++) await t.events.record({ key: `ev:${i}:${j}`, kind: "dm", payload: "x".repeat(3000) }, 1);
    });
  }
  return s;
}

const size = (p: string) => statSync(p).size;

test("the worker copies committed pages into the database file between the bot's own checkpoints", async () => {
  const path = join(dir, "background.db");
  const s = await write(path, true);
  // In WAL mode only a checkpoint writes the database file.
  await waitFor(() => size(path) > 500_000, "the database file to take the committed pages");
  await s.close();
});

test("with the worker, a commit past 1,000 WAL pages does not checkpoint on the bot's connection (its bound is 4,000)", async () => {
  const path = join(dir, "bound.db");
  for (const background of [false, true]) {
    const s = openSqliteStore(`${path}.${background}`, { backgroundCheckpoints: background });
    const before = size(`${path}.${background}`);
    // ~1,500 pages in one transaction: nothing of it is committed, so copyable, before it ends.
    await s.tx(async (t) => {
      for (let i = 0; i < 1500; i++) await t.events.record({ key: `ev:${i}`, kind: "dm", payload: "x".repeat(3000) }, 1);
    });
    const grown = size(`${path}.${background}`) - before;
    // Without the worker the commit copied all of it (SQLite's 1,000); with it, the worker copies it later.
    if (background) expect(grown).toBeLessThan(2_000_000);
    else expect(grown).toBeGreaterThan(4_000_000);
    await s.close();
  }
});

test("without the worker nothing is copied before the WAL reaches the bot's bound", async () => {
  const path = join(dir, "own.db");
  const s = await write(path, false);
  await Bun.sleep(300);
  expect(size(path)).toBeLessThan(200_000);
  await s.close();
});

test("a closed store with background checkpoints is one complete file", async () => {
  const path = join(dir, "closed.db");
  const s = await write(path, true);
  await s.close();
  expect(existsSync(`${path}-wal`) || existsSync(`${path}-shm`)).toBe(false);
  const db = new Database(path, { readonly: true });
  expect((db.query("SELECT count(*) AS n FROM events").get() as { n: number }).n).toBe(300);
  db.close();
});
