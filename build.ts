// Builds the two single-file executables of the contract:
//   dist/clawdbot      for this machine
//   dist/clawdbot.exe  for windows-x64 (cross-compiled)
// `bun build.ts --native` builds only the first (what the tests need).
import { $ } from "bun";
import { mkdirSync } from "node:fs";

const nativeOnly = process.argv.includes("--native");
mkdirSync("dist", { recursive: true });

const targets: { target?: string; outfile: string }[] = [{ outfile: "dist/clawdbot" }];
if (!nativeOnly) targets.push({ target: "bun-windows-x64", outfile: "dist/clawdbot.exe" });

// A compiled Bun executable would otherwise read `.env` and `bunfig.toml` (whose `preload`
// runs code) from whatever directory it is started in: settings come only from the sources
// the contract names, and no file beside the working directory runs inside the bot.
const noAutoload = [
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  "--no-compile-autoload-tsconfig",
  "--no-compile-autoload-package-json",
];

for (const t of targets) {
  const started = performance.now();
  const targetArgs = t.target ? ["--target", t.target] : [];
  await $`bun build --compile --minify-syntax --sourcemap=inline ${noAutoload} ${targetArgs} src/main.ts --outfile ${t.outfile}`.quiet();
  console.log(`built ${t.outfile} in ${Math.round(performance.now() - started)} ms`);
}
