// Where the read-only commands (state dump, logs, replay --dry-run) find the store, and the
// one wording for "there is none", so an operator reads the same line from each of them.
import { ConfigError, defaultDataDir, gatherEnv } from "../config.ts";
import { shownLocation, storeLocation } from "../store/index.ts";
import { CliExit } from "./exit.ts";

export const dbArg = {
  db: {
    type: "string",
    description: "path of clawdbot.db, or a postgres:// URL (default: $CLAWDBOT_DATABASE_URL, else $CLAWDBOT_DATA_DIR/clawdbot.db)",
  },
} as const;

/** The settings as `run` would see them: the environment, --env-file, clawdbot.env beside the executable. */
function settings(envFile?: string): Record<string, string | undefined> {
  try {
    return gatherEnv(process.env, envFile);
  } catch (err) {
    // A file the operator named must be readable; an unreadable clawdbot.env leaves the environment.
    if (envFile && err instanceof ConfigError) throw new CliExit(2, `clawdbot: configuration error: ${err.message}`);
    return process.env;
  }
}

/** $CLAWDBOT_DATABASE_URL, else $CLAWDBOT_DATA_DIR/clawdbot.db. */
export function defaultDbPath(envFile?: string): string {
  const env = settings(envFile);
  const dir = env.CLAWDBOT_DATA_DIR?.trim() || defaultDataDir(env);
  return storeLocation({ dataDir: dir, databaseUrl: env.CLAWDBOT_DATABASE_URL?.trim() || undefined });
}

/** CLAWDBOT_INSTANCE_TIMEOUT in ms (30 s when unset or not a number): how state dump judges `alive`. */
export function instanceTimeoutMs(envFile?: string): number {
  const s = Number(settings(envFile).CLAWDBOT_INSTANCE_TIMEOUT?.trim() || Number.NaN);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 30_000;
}

/** Exit 2: there is no store at `path`, or it cannot be read (`why`). A database URL is shown without its password. */
export function noStore(path: string, why = "file does not exist (has clawdbot run here? set CLAWDBOT_DATA_DIR or pass --db)"): CliExit {
  return new CliExit(2, `no store at ${shownLocation(path)}: ${why}`);
}
