// The store: it opens, it is sound, its schema is one this build knows, this process may
// write to it. Opened read-only like `state dump`: doctor never migrates or changes it.
import { existsSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Store } from "../../core/store.ts";
import { openStore, shownLocation, storeExists, storeLocation } from "../../store/index.ts";
import { type CheckResult, errText, fail, pass, type Check } from "../types.ts";

const NAME = "store";
const SCHEMA = "store.schema";
const WRITABLE = "store.writable";

const RESTORE = "stop clawdbot, move the file aside and put a backup in its place (with no file, the next run starts an empty store: what it held is lost)";

/** The data dir, or the nearest folder above it that exists (where `run` would create it). */
export function existingDir(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** No store yet: can the first run create one? A temporary file, removed at once, says. */
function dirWritable(dataDir: string): CheckResult {
  const dir = existingDir(dataDir);
  const probe = join(dir, `.clawdbot-doctor-${process.pid}`);
  try {
    writeFileSync(probe, "");
    unlinkSync(probe);
  } catch (err) {
    return fail(WRITABLE, `cannot create files in ${dir}: ${errText(err)}`, "give the user that runs clawdbot write access there, or set CLAWDBOT_DATA_DIR to a folder it may write");
  }
  return pass(WRITABLE, `${dir} is writable: the first run can create the store`);
}

async function inspect(path: string, store: Store): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const d = store.diagnostics();
  const damage = await d.integrityProblems();
  out.push(
    damage.length === 0
      ? pass(NAME, `${path} opens; integrity check ok`)
      : fail(NAME, `${path} is damaged: ${damage.slice(0, 3).join("; ")}${damage.length > 3 ? ` (and ${damage.length - 3} more)` : ""}`, RESTORE),
  );
  const [at, latest] = [await store.schemaVersion(), d.latestSchemaVersion];
  if (at > latest) {
    out.push(
      fail(SCHEMA, `schema v${at} is newer than this clawdbot knows (v${latest}): a newer clawdbot wrote it`, "run the clawdbot version that wrote it (or newer); an older one must not use it"),
    );
  } else if (at < latest) {
    out.push(pass(SCHEMA, `schema v${at}: the next run migrates it to v${latest}`));
  } else {
    out.push(pass(SCHEMA, `schema v${at}, this build's`));
  }
  try {
    await d.probeWrite();
    out.push(pass(WRITABLE, "a write transaction can be taken (the probe is rolled back)"));
  } catch (err) {
    out.push(
      fail(WRITABLE, `cannot write ${path}: ${errText(err)}`, "give the user that runs clawdbot write access to the file and its folder; if another program holds it locked, stop it"),
    );
  }
  return out;
}

export const storeCheck: Check = {
  name: NAME,
  async run(ctx) {
    const location = storeLocation(ctx.config);
    // A database URL is shown without its password.
    const path = shownLocation(location);
    if (!storeExists(location)) return [pass(NAME, `no store yet at ${path}: the first clawdbot run creates it`), dirWritable(ctx.config.dataDir)];
    let store: Store;
    try {
      store = await openStore(location, { readonly: true });
    } catch (err) {
      return [fail(NAME, `cannot open ${path}: ${errText(err)}`, RESTORE)];
    }
    try {
      return await inspect(path, store);
    } catch (err) {
      return [fail(NAME, `cannot read ${path}: ${errText(err)}`, RESTORE)];
    } finally {
      await store.close();
    }
  },
};
