#!/usr/bin/env bun
// Entry point: the only place that reads argv and sets the exit status.
import { runCommand, runMain } from "citty";
import { cli } from "./cli/index.ts";
import { CliExit } from "./cli/exit.ts";

const rawArgs = process.argv.slice(2);
const wantsHelp = rawArgs.some((a) => a === "--help" || a === "-h");
const wantsVersion = rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v");

if (wantsHelp || wantsVersion || rawArgs.length === 0) {
  await runMain(cli, { rawArgs: rawArgs.length === 0 ? ["--help"] : rawArgs });
} else {
  try {
    await runCommand(cli, { rawArgs });
    process.exitCode ??= 0;
  } catch (err) {
    if (err instanceof CliExit) {
      if (err.message) console.error(err.message);
      process.exitCode = err.exitCode;
    } else if (err instanceof Error && "code" in err && String(err.code).startsWith("E_")) {
      // citty's usage errors (unknown command, missing argument)
      console.error(`${err.message}; see clawdbot --help`);
      process.exitCode = 2;
    } else {
      console.error(`clawdbot: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  }
}
