// Runs a citty command in-process as main.ts would: its stdout lines, and the exit code
// with the one-line message of a CliExit.
import { spyOn } from "bun:test";
import { type CommandDef, runCommand } from "citty";
import { CliExit } from "../../src/cli/exit.ts";

export interface CliResult {
  out: string;
  code: number;
  message: string;
}

/** Any citty command (their args types differ). */
export async function runCli(cmd: CommandDef<any>, ...rawArgs: string[]): Promise<CliResult> {
  const lines: string[] = [];
  const log = spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
  try {
    await runCommand(cmd, { rawArgs });
    return { out: lines.join("\n"), code: 0, message: "" };
  } catch (err) {
    if (!(err instanceof CliExit)) throw err;
    return { out: lines.join("\n"), code: err.exitCode, message: err.message };
  } finally {
    log.mockRestore();
  }
}
