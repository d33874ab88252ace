// The store contract on the SQLite adapter: a fresh file in a temp dir per test.
import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";
import { testStore } from "./contract.ts";

testStore("sqlite", async (opts) => {
  const dir = tempDir("clawdbot-store-");
  return { store: openSqliteStore(join(dir, "clawdbot.db"), opts), cleanup: () => cleanup(dir) };
});
