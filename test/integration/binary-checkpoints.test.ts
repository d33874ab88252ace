// The compiled executable runs its checkpoint worker (an entrypoint of its own in build.ts):
// what the bot commits reaches the database file before the WAL is anywhere near the
// 4,000 pages at which the bot's own connection would checkpoint, and a stopped bot leaves
// one complete file.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { storeLocation } from "../../src/store/index.ts";
import { botEnv, cleanup, spawnBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator;
const dir = tempDir();

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.stop();
  cleanup(dir);
});

test("the executable copies committed pages into the database file in a worker; a stopped bot leaves one file", async () => {
  // Started elsewhere: the worker must come from the executable, not from src/ beside the working directory.
  const bot = await spawnBot(["run"], botEnv(emu, dir), { cwd: dir });
  await bot.healthPort();
  await waitFor(() => emu.openConnections() === 1, "the bot's socket");
  const db = storeLocation({ dataDir: dir });
  const before = statSync(db).size;
  for (let i = 0; i < 40; i++) emu.dm(`UCKPT${i % 8}`, `checkpoint ${i} ${"x".repeat(2000)}`);
  await waitFor(() => emu.botMessages().filter((m) => m.text.includes("checkpoint ")).length === 40, "forty answers");
  // ~40 × 5 pages: far below the bot's own bound, so only the worker writes the file this soon.
  await waitFor(() => statSync(db).size > before + 100_000, "the database file to take the committed pages", 5000);
  bot.proc.kill("SIGTERM");
  expect(await bot.exited).toBe(0);
  expect(existsSync(`${db}-wal`) || existsSync(`${db}-shm`)).toBe(false);
});
