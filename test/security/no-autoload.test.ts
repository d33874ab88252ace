// The compiled executable must not read `.env` or `bunfig.toml` (whose `preload` runs code)
// from the directory it is started in: Task Scheduler may start it anywhere.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore, storeLocation } from "../../src/store/index.ts";
import { cleanup, spawnBot, tempDir } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

async function plantedFolder(): Promise<{ cwd: string; marker: string; plantedData: string }> {
  const cwd = join(dir, "start-here");
  const plantedData = join(dir, "planted-data");
  mkdirSync(cwd, { recursive: true });
  // A store where the planted .env points, so reading it would make `state dump` succeed.
  await (await openStore(storeLocation({ dataDir: plantedData }))).close();
  const marker = join(cwd, "PWNED");
  writeFileSync(join(cwd, "evil.js"), `require("fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
  writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./evil.js"]\n');
  writeFileSync(join(cwd, ".env"), `CLAWDBOT_DATA_DIR=${plantedData}\nCLAWDBOT_APPROVERS=UMALLORY\n`);
  return { cwd, marker, plantedData };
}

test("a bunfig.toml preload and a .env in the working directory are ignored by the executable", async () => {
  const { cwd, marker } = await plantedFolder();
  const emptyState = join(dir, "xdg-state");
  mkdirSync(emptyState, { recursive: true });
  const env = { XDG_STATE_HOME: emptyState };

  const version = await spawnBot(["--version"], env, { cwd });
  expect(await version.exited).toBe(0);
  expect(existsSync(marker)).toBe(false);

  // Had the .env been read, the dump would find the planted store; it must find none.
  const dump = await spawnBot(["state", "dump", "--json"], env, { cwd });
  expect(await dump.exited).toBe(2);
  expect(dump.output()).toContain(emptyState);
  expect(existsSync(marker)).toBe(false);
});
