// Opens the store at a location: today the SQLite file (the embedded default).
import { existsSync } from "node:fs";
import type { Store } from "../core/store.ts";
import { openSqliteStore, type SqliteOptions, sqlitePath } from "./sqlite/index.ts";

export type StoreOptions = SqliteOptions;

/** Where the configured store is: the SQLite file in the data dir. */
export function storeLocation(config: { dataDir: string }): string {
  return sqlitePath(config.dataDir);
}

/** Whether there is a store there yet (a bot has run with it). */
export function storeExists(location: string): boolean {
  return existsSync(location);
}

export async function openStore(location: string, opts: StoreOptions = {}): Promise<Store> {
  return openSqliteStore(location, opts);
}
