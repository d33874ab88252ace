// Opens the store at a location: the SQLite file (the embedded default), or a PostgreSQL
// database URL (a cluster's shared store).
import { existsSync } from "node:fs";
import type { Store } from "../core/store.ts";
import { isPostgresUrl, openPostgresStore, type PostgresOptions, withoutPassword } from "./postgres/index.ts";
import { openSqliteStore, type SqliteOptions, sqlitePath } from "./sqlite/index.ts";

export type StoreOptions = SqliteOptions & PostgresOptions;

/** Where the configured store is: CLAWDBOT_DATABASE_URL, else the SQLite file in the data dir. */
export function storeLocation(config: { dataDir: string; databaseUrl?: string }): string {
  return config.databaseUrl ?? sqlitePath(config.dataDir);
}

/** A location as people may see it: a database URL without its password. */
export function shownLocation(location: string): string {
  return isPostgresUrl(location) ? withoutPassword(location) : location;
}

/** Whether there is a store there yet (a bot has run with it); a database is asked when it is opened. */
export function storeExists(location: string): boolean {
  return isPostgresUrl(location) || existsSync(location);
}

export async function openStore(location: string, opts: StoreOptions = {}): Promise<Store> {
  return isPostgresUrl(location) ? openPostgresStore(location, opts) : openSqliteStore(location, opts);
}
