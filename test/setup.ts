// Preloaded before every test run (bunfig.toml): builds dist/clawdbot once if the sources
// are newer, so no test pays for the build inside its own timeout; stops the private
// PostgreSQL server after the last test if one was started.
import { afterAll } from "bun:test";
import { ensureBinary } from "./helpers/bot.ts";
import { stopPostgres } from "./helpers/postgres.ts";

await ensureBinary();
afterAll(stopPostgres);
