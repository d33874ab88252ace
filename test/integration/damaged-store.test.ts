// A damaged store file (garbage where clawdbot.db should be): the compiled `run` and
// `state dump` exit 2 with one line naming the file and what to do, and touch nothing.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { botEnv, cleanup, spawnBot, startEmulator, tempDir } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

const GARBAGE = "not a database: this file was overwritten by something else entirely\n".repeat(200);

async function exits(args: string[], env: Record<string, string>): Promise<{ code: number; lines: string[] }> {
  const p = await spawnBot(args, env);
  const code = await p.exited;
  return { code, lines: p.output().trim().split("\n") };
}

test("run and state dump on a damaged clawdbot.db: exit 2, one line with the file and what to do", async () => {
  const emu = await startEmulator();
  try {
    const db = join(dir, "clawdbot.db");
    writeFileSync(db, GARBAGE);
    for (const args of [["run"], ["state", "dump"], ["state", "dump", "--json", "--db", db]]) {
      const { code, lines } = await exits(args, botEnv(emu, dir));
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(db);
      expect(lines[0]).toContain("restore it from a backup, or move it aside");
    }
    // Nothing was written over it, and the bot never reached Slack.
    expect(readFileSync(db, "utf8")).toBe(GARBAGE);
    expect(emu.openConnections()).toBe(0);
  } finally {
    await emu.stop();
  }
});
