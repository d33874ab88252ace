// Most of the WAL's checkpointing off the event loop. A checkpoint copies committed pages into
// the database file and syncs the WAL and the file; SQLite runs one on the bot's connection
// inside the commit that fills the WAL past 1,000 pages, and the event loop (acks included)
// waits for its fsyncs: ~20 ms here, every ~50 events at 200 events/s. A worker thread with
// its own connection copies and syncs what is committed every EVERY_MS, so the bot's own
// checkpoint finds almost everything copied already and copies little; the bot's connection
// keeps doing it, as before, because only a checkpoint between its writes lets the next write
// start the WAL again from the beginning (SQLite's rule): the WAL stays within its bound.
// If the worker cannot start or fails, the bot's connection simply does all of it, as before.
//
// Its fsyncs remain (3-20 ms here, an ack waiting behind them), however little is left to
// copy: with the worker copying, the bot's own checkpoint waits for 4,000 pages instead of
// SQLite's 1,000, a quarter as many of them (a 4,000 DM burst: 13 commits over 2 ms instead of
// 33, 58 ms of them instead of 159); the WAL stays bounded, at ~16 MB.
import { resolve } from "node:path";
import { compiled } from "../../compiled.ts";

const EVERY_MS = 100;
/** WAL pages at which the bot's own connection checkpoints while the worker runs (SQLite's default: 1,000). */
export const OWN_CHECKPOINT_PAGES = 4000;
const STOP_WAIT_MS = 1000;

export interface BackgroundCheckpoints {
  /** Stops the worker and closes its connection (bounded wait). */
  stop(): Promise<void>;
}

export function checkpointInBackground(path: string): BackgroundCheckpoints {
  // build.ts embeds the worker as an entrypoint of its own, named by its path under src/ (the
  // entrypoints' common folder); from source it is beside this file.
  const url = compiled() ? "./store/sqlite/checkpoint-worker.ts" : new URL("./checkpoint-worker.ts", import.meta.url).href;
  let worker: Worker | null = new Worker(url);
  // A store somebody forgot to close must not keep the process alive.
  worker.unref();
  worker.onerror = () => {
    worker?.terminate();
    worker = null;
  };
  worker.postMessage({ path: resolve(path), everyMs: EVERY_MS });
  return {
    stop: async () => {
      const w = worker;
      if (!w) return;
      worker = null;
      await new Promise<void>((done) => {
        const timer = setTimeout(done, STOP_WAIT_MS);
        const finish = () => {
          clearTimeout(timer);
          done();
        };
        w.onmessage = (e: MessageEvent) => {
          if (e.data === "closed") finish();
        };
        w.onerror = finish;
        w.postMessage("close");
      });
      w.terminate();
    },
  };
}
