// Free space where the store lives: a full disk is store_unavailable, every event refused.
import { statfsSync } from "node:fs";
import { type Check, type CheckResult, errText, fail, pass, warn } from "../types.ts";
import { existingDir } from "./store.ts";

const NAME = "disk";
const MB = 1024 * 1024;
/** Below this, a busy bot (log, outbox, events) can fill it within days. */
export const WARN_BELOW = 500 * MB;
/** Below this, SQLite may fail to write the WAL or checkpoint at any moment. */
export const FAIL_BELOW = 50 * MB;

const human = (bytes: number): string => (bytes >= 1024 * MB ? `${(bytes / (1024 * MB)).toFixed(1)} GB` : `${Math.floor(bytes / MB)} MB`);

export function judgeFreeSpace(dir: string, free: number): CheckResult {
  const found = `${human(free)} free in ${dir}`;
  const fix = `free space on that disk or set CLAWDBOT_DATA_DIR to a folder on another one: with a full disk the bot refuses every event`;
  if (free < FAIL_BELOW) return fail(NAME, `${found} (under ${human(FAIL_BELOW)})`, fix);
  if (free < WARN_BELOW) return warn(NAME, `${found} (under ${human(WARN_BELOW)})`, fix);
  return pass(NAME, found);
}

export const diskCheck: Check = {
  name: NAME,
  async run(ctx) {
    const dir = existingDir(ctx.config.dataDir);
    try {
      const s = statfsSync(dir);
      return [judgeFreeSpace(dir, s.bavail * s.bsize)];
    } catch (err) {
      return [warn(NAME, `cannot tell the free space in ${dir}: ${errText(err)}`, "check the disk's free space by hand")];
    }
  },
};
