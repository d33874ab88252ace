// A worker thread's own connection to the bot's store, doing nothing but WAL checkpoints
// (see checkpoints.ts). PASSIVE: it copies what is committed into the database file without
// waiting for or blocking the bot's connection; one that finds another checkpointer busy
// simply tries again at its next tick.
import { Database } from "bun:sqlite";

declare const self: Worker;

self.onmessage = (start: MessageEvent<{ path: string; everyMs: number }>) => {
  const db = new Database(start.data.path, { readwrite: true, create: false });
  // As the bot's connection: the checkpoint syncs the WAL, then the database file.
  db.run("PRAGMA synchronous = NORMAL");
  const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  const timer = setInterval(() => {
    try {
      checkpoint.get();
    } catch {
      // Another checkpointer (a `replay`, a closing store) has the lock: next tick.
    }
  }, start.data.everyMs);
  self.onmessage = () => {
    clearInterval(timer);
    checkpoint.finalize();
    db.close();
    postMessage("closed");
  };
};
