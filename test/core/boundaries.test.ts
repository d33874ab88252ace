// The core depends only on its ports: nothing in src/core loads a store adapter, bun:sqlite,
// Bun.sql, the Slack SDKs, Elysia or the job runner. Type-only imports (erased at build, such
// as the agent's and the relay's interfaces) are allowed; what the transpiler keeps is not.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/bot.ts";

const CORE = join(ROOT, "src", "core");
/** Pure helpers from the runtime: hashing a dedupe key, the host's name for a lease owner. */
const ALLOWED_BUILTINS = new Set(["node:crypto", "node:os"]);

test("src/core imports at run time nothing but itself and two pure builtins", () => {
  const transpiler = new Bun.Transpiler({ loader: "ts" });
  const outside: string[] = [];
  for (const file of readdirSync(CORE).filter((f) => f.endsWith(".ts"))) {
    for (const imp of transpiler.scanImports(readFileSync(join(CORE, file), "utf8"))) {
      if (imp.path.startsWith("./") || ALLOWED_BUILTINS.has(imp.path)) continue;
      outside.push(`${file}: ${imp.path}`);
    }
  }
  expect(outside).toEqual([]);
});
