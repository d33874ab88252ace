// The environment a job (and the command agent) runs with: an allowlist, never the bot's own
// environment minus a few names. The bot's environment holds its tokens, the API key, the relay
// and API URLs with their passwords, and whatever else its service manager set; a job running
// `env` or `set` would post all of it. A job gets what a shell needs to find programs, a home,
// temp space and a locale, and nothing that configures or authenticates the bot.
//
// A tool that needs a key of its own (an AI coding tool as the code command, say) reads it from
// its own configuration under the home directory (HOME, USERPROFILE, APPDATA are passed), not
// from the bot's environment.

/** Windows: what cmd.exe and ordinary programs need. Names match case-insensitively there. */
const WINDOWS = [
  "PATH",
  "PATHEXT", // how cmd.exe finds `foo` as foo.exe/foo.cmd
  "SystemRoot",
  "SystemDrive",
  "windir",
  "ComSpec", // the shell cmd.exe itself starts for `cmd /c`, pipes and the like
  "TEMP",
  "TMP",
  "USERPROFILE",
  "HOMEDRIVE",
  "HOMEPATH",
  "APPDATA", // per-user configuration (where a tool keeps its own login)
  "LOCALAPPDATA",
  "ProgramData",
  "ProgramFiles",
  "ProgramFiles(x86)",
  "NUMBER_OF_PROCESSORS", // build tools size their parallelism by it
  "PROCESSOR_ARCHITECTURE",
  "OS",
  "USERNAME",
  "COMPUTERNAME",
] as const;

/** POSIX: the login environment a shell expects, and the locale. */
const POSIX = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", "TMPDIR", "TERM"] as const;
/** POSIX locale categories (LC_ALL, LC_CTYPE, ...). */
const POSIX_PREFIX = "LC_";

/** The allowlisted part of `from` for a job on `platform`. Names keep their spelling. */
export function jobEnv(platform: NodeJS.Platform = process.platform, from: Record<string, string | undefined> = process.env): Record<string, string> {
  const win = platform === "win32";
  const allowed = new Set<string>(win ? WINDOWS.map((n) => n.toUpperCase()) : POSIX);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(from)) {
    if (value === undefined) continue;
    const key = win ? name.toUpperCase() : name;
    if (allowed.has(key) || (!win && name.startsWith(POSIX_PREFIX))) env[name] = value;
  }
  return env;
}
