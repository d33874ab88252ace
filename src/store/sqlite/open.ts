// Opens the SQLite file the way every process of clawdbot must: WAL (readers never block
// the writer), a busy timeout (the bot and a CLI command write at once), and migrations.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { StoreError } from "../../core/store.ts";
import { migrate } from "./migrations.ts";

export interface OpenOptions {
  /** Read-only: no migrations, no writes (state dump). */
  readonly?: boolean;
}

/** How long a statement waits for another process's write lock (the bot and `replay` write at once). */
export const BUSY_TIMEOUT_MS = 5000;

export function openDatabase(path: string, opts: OpenOptions = {}): Database {
  let db: Database;
  try {
    if (opts.readonly) {
      db = openReader(path);
    } else {
      mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { create: true, strict: true });
    }
  } catch (err) {
    throw new StoreError(path, `cannot be opened: ${(err as Error).message}`);
  }
  db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (!opts.readonly) {
    db.run("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode survives process crashes (kill -9); only a power loss can drop the last commits.
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA foreign_keys = ON");
    migrate(db);
  }
  return db;
}

/**
 * A reader that leaves nothing behind. SQLite's read-only mode still creates the WAL index
 * files of a WAL database and cannot remove them, so a dump run by another user (an admin,
 * root) would leave files the bot's own user may not be able to open. A read-write handle
 * with query_only removes them again on close when it is the last one; where the file is
 * not writable for us, the plain read-only mode is the fallback.
 */
function openReader(path: string): Database {
  try {
    const db = new Database(path, { readwrite: true, create: false, strict: true });
    db.run("PRAGMA query_only = ON");
    return db;
  } catch {
    return new Database(path, { readonly: true, strict: true });
  }
}
