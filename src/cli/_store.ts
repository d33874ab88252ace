// Where the read-only commands (state dump, logs, replay --dry-run) find the store, and the
// one wording for "there is none", so an operator reads the same line from each of them.
import { ConfigError, defaultDataDir, gatherEnv } from "../config.ts";
import { storeLocation } from "../store/index.ts";
import { CliExit } from "./exit.ts";

export const dbArg = {
  db: { type: "string", description: "path of clawdbot.db (default: $CLAWDBOT_DATA_DIR/clawdbot.db)" },
} as const;

/** $CLAWDBOT_DATA_DIR/clawdbot.db, also from clawdbot.env beside the executable (and --env-file). */
export function defaultDbPath(envFile?: string): string {
  let env: Record<string, string | undefined> = process.env;
  try {
    env = gatherEnv(process.env, envFile); // also reads clawdbot.env beside the executable
  } catch (err) {
    // A file the operator named must be readable; an unreadable clawdbot.env leaves the environment.
    if (envFile && err instanceof ConfigError) throw new CliExit(2, `clawdbot: configuration error: ${err.message}`);
  }
  const dir = env.CLAWDBOT_DATA_DIR?.trim() || defaultDataDir(env);
  return storeLocation({ dataDir: dir });
}

/** Exit 2: there is no store at `path`, or it cannot be read (`why`). */
export function noStore(path: string, why = "file does not exist (has clawdbot run here? set CLAWDBOT_DATA_DIR or pass --db)"): CliExit {
  return new CliExit(2, `no store at ${path}: ${why}`);
}
