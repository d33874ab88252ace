#!/usr/bin/env bun
// Entry point: the only place that reads argv and sets the exit status.
import { type CommandDef, renderUsage, runCommand, runMain } from "citty";
import { cli } from "./cli/index.ts";
import { CliExit } from "./cli/exit.ts";
import { stripAnsi, useColor } from "./log.ts";

const rawArgs = process.argv.slice(2);
const wantsHelp = rawArgs.some((a) => a === "--help" || a === "-h");
const wantsVersion = rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v");

// citty colours help and errors unless NO_COLOR=1, TEST or CI: piped into a file or read by a
// script they must be plain text, so the terminal decides here.
const forOut = (s: string) => (useColor(process.stdout) ? s : stripAnsi(s));
const forErr = (s: string) => (useColor(process.stderr) ? s : stripAnsi(s));

// biome-ignore lint/suspicious/noExplicitAny: citty's own signature
async function showUsage(cmd: CommandDef<any>, parent?: CommandDef<any>): Promise<void> {
  console.log(`${forOut(await renderUsage(cmd, parent))}\n`);
}

if (wantsHelp || wantsVersion || rawArgs.length === 0) {
  await runMain(cli, { rawArgs: rawArgs.length === 0 ? ["--help"] : rawArgs, showUsage });
} else {
  try {
    await runCommand(cli, { rawArgs });
    process.exitCode ??= 0;
  } catch (err) {
    if (err instanceof CliExit) {
      if (err.message) console.error(forErr(err.message));
      process.exitCode = err.exitCode;
    } else if (err instanceof Error && err.name === "CLIError") {
      // citty's usage errors: unknown command, missing or bad argument, no subcommand
      console.error(forErr(`clawdbot: ${err.message.replace(/\.$/, "")}; see clawdbot --help`));
      process.exitCode = 2;
    } else {
      console.error(forErr(`clawdbot: ${err instanceof Error ? err.message : String(err)}`));
      process.exitCode = 1;
    }
  }
}
