// How a command line typed by a person is handed to the platform shell, unchanged.

/**
 * The argv that runs `command` exactly as typed.
 *
 * win32: `cmd.exe /d /s /c "<command>"` must be spawned with verbatim arguments
 * (runProcess does this for a cmd.exe argv): with /s, cmd strips only the outer
 * quotes and parses the rest itself, so `&&`, `>` and inner quotes keep their meaning.
 * /d skips AutoRun registry hooks. `comspec` is the absolute cmd.exe path when known,
 * so a `cmd.exe` planted in the job's working directory is never picked up.
 */
export function shellArgv(
  command: string,
  platform: NodeJS.Platform = process.platform,
  comspec: string = process.env.ComSpec || "cmd.exe",
): string[] {
  if (platform === "win32") return [comspec, "/d", "/s", "/c", `"${command}"`];
  return ["/bin/sh", "-c", command];
}

/**
 * Why cmd.exe cannot run `command` as typed, or undefined when it can. cmd.exe ends a
 * command line at the first line break: the card would show every line but only the first
 * would run (Wine 8's cmd runs none of them), so a multi-line command is refused instead.
 */
export function shellRefusal(command: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (platform !== "win32" || !/[\r\n]/.test(command)) return undefined;
  return "cmd.exe runs only the first line of a multi-line command. Join the lines with && (stop at the first failure) or & (run each), and ask again.";
}

/** True for an argv built by shellArgv for win32: it needs verbatim (unquoted) arguments. */
export function isCmdArgv(argv: readonly string[]): boolean {
  const exe = argv[0];
  if (exe === undefined) return false;
  const base = exe.split(/[\\/]/).pop() ?? "";
  return base.toLowerCase() === "cmd.exe" || base.toLowerCase() === "cmd";
}
