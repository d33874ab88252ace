// Opens the SQLite file the way every process of clawdbot must: WAL (readers never block
// the writer), a busy timeout (the bot and a CLI command write at once), and migrations.
// The file holds people's messages and job output: on POSIX only our user may read it.
import { Database } from "bun:sqlite";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { StoreError } from "../../core/store.ts";
import { migrate, schemaVersion } from "./migrations.ts";

export interface OpenOptions {
  /** Read-only: no migrations, no writes (state dump). */
  readonly?: boolean;
  busyTimeoutMs?: number;
}

/** How long a statement waits for another process's write lock (the bot and `replay` write at once). */
export const BUSY_TIMEOUT_MS = 5000;
/**
 * SQLite's own busy wait blocks the thread: once open, a statement waits this long at most,
 * and the store tries it again asynchronously (see index.ts) for the rest of the timeout.
 */
export const SYNC_BUSY_MS = 20;

const POSIX = process.platform !== "win32";

export function openDatabase(path: string, opts: OpenOptions = {}): Database {
  let db: Database;
  try {
    db = opts.readonly ? openReader(path) : openWriter(path);
  } catch (err) {
    throw new StoreError(path, `cannot be opened: ${(err as Error).message}`);
  }
  try {
    db.run(`PRAGMA busy_timeout = ${Math.round(opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS)}`);
    if (opts.readonly) {
      // A damaged file fails here, on its first read, not in the middle of a dump.
      if (schemaVersion(db) === 0) throw new StoreError(path, "holds no clawdbot data (an empty database)");
    } else {
      db.run("PRAGMA journal_mode = WAL");
      // NORMAL in WAL mode survives process crashes (kill -9); only a power loss can drop the last commits.
      db.run("PRAGMA synchronous = NORMAL");
      db.run("PRAGMA foreign_keys = ON");
      migrate(db);
    }
  } catch (err) {
    db.close(true);
    throw err instanceof StoreError ? err : unusable(path, err);
  }
  return db;
}

/** SQLite's "not a database" and "malformed": the file is damaged, or is something else. */
function unusable(path: string, err: unknown): StoreError {
  const code = (err as { code?: string }).code ?? "";
  const msg = (err as Error).message;
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
    return new StoreError(path, `is damaged or not a clawdbot store (${msg}): restore it from a backup, or move it aside to start with an empty one`);
  }
  return new StoreError(path, `cannot be used: ${msg}`);
}

/**
 * A new data dir is made 0700 and a new store file 0600 (its WAL files take the file's mode):
 * what is in them is for our user only. An existing directory is left as its operator made it.
 */
function openWriter(path: string): Database {
  const dir = dirname(path);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (POSIX) chmodSync(dir, 0o700);
  }
  if (!existsSync(path)) createPrivate(path);
  return new Database(path, { create: true, strict: true });
}

/** Created empty with its mode before SQLite opens it: never readable by others, not even briefly. */
function createPrivate(path: string): void {
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch (err) {
    // Another process (replay, a second start) created it first: it made it the same way.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
    throw err;
  }
  if (POSIX) chmodSync(path, 0o600);
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
