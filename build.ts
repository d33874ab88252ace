// Builds the two single-file executables of the contract:
//   dist/clawdbot      for this machine
//   dist/clawdbot.exe  for windows-x64 (cross-compiled)
// `bun build.ts --native` builds only the first (what the tests need).
import { rmSync } from "node:fs";

const nativeOnly = process.argv.includes("--native");

const targets: { target?: Bun.Build.CompileTarget; outfile: string }[] = [{ outfile: "dist/clawdbot" }];
if (!nativeOnly) targets.push({ target: "bun-windows-x64", outfile: "dist/clawdbot.exe" });

for (const t of targets) {
  const started = performance.now();
  const result = await Bun.build({
    // The checkpoint worker (src/store/sqlite/checkpoints.ts) is a thread's entrypoint of its own.
    entrypoints: ["src/main.ts", "src/store/sqlite/checkpoint-worker.ts"],
    compile: {
      ...(t.target && { target: t.target }),
      outfile: t.outfile,
      // A compiled Bun executable would otherwise read `.env` and `bunfig.toml` (whose `preload`
      // runs code) from whatever directory it is started in: settings come only from the sources
      // the contract names, and no file beside the working directory runs inside the bot.
      autoloadDotenv: false,
      autoloadBunfig: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
    },
    // Start-up (`health` runs every few minutes under Task Scheduler; BENCHMARKS.md "Start-up"):
    // splitting puts each lazily imported subcommand in its own chunk, so `--version` evaluates
    // citty alone and `health` adds config.ts, instead of every module's Node built-ins;
    // bytecode spares parsing the chunks a command does load. Splitting needs ESM output (and
    // bytecode's default, CJS, refuses main.ts's top-level await).
    splitting: true,
    bytecode: true,
    format: "esm",
    // Identifiers are not minified: stacks and `constructor.name` keep the real names, and
    // renaming measured no faster.
    minify: { whitespace: true, syntax: true },
    // Embedded in the executable, so error stacks name src/ files and lines (no measurable cost).
    sourcemap: "inline",
  });
  // Bun also writes each chunk's map beside the executable; the executable carries its own.
  for (const o of result.outputs) if (o.kind === "sourcemap") rmSync(o.path, { force: true });
  console.log(`built ${t.outfile} in ${Math.round(performance.now() - started)} ms`);
}
