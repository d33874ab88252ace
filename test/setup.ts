// Preloaded before every test run (bunfig.toml): builds dist/clawdbot once if the sources
// are newer, so no test pays for the build inside its own timeout.
import { ensureBinary } from "./helpers/bot.ts";

await ensureBinary();
