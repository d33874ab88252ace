// Approved jobs: an exec job is a command line run as typed; a code job is the configured
// code command with the task on stdin. Both run through the platform shell with a deadline.
import { runProcess, type RunResult } from "./run-process.ts";
import { shellArgv, shellRefusal } from "./shell.ts";

export interface JobResult {
  exitCode: number | null;
  output: string;
  timedOut: boolean;
  durationMs: number;
  truncatedBytes: number;
  /** Stopped by the caller's AbortSignal (shutdown); the process tree was killed. */
  aborted?: boolean;
  /** The process could not be started (missing cwd, no shell); `output` says why. */
  notStarted?: boolean;
  /** Not started on purpose: the shell could not run the command as shown (`output` says why). */
  refused?: boolean;
}

/** Slack's secrets never reach a job: `env` or `set` in a job would post them to Slack. */
export const SLACK_SECRET_ENV = ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"] as const;
/** An exec job is an arbitrary command line: it gets no API key either. */
const EXEC_SECRET_ENV = [...SLACK_SECRET_ENV, "ANTHROPIC_API_KEY"];

/** This process's environment without `drop` (case-insensitive: Windows names are). */
export function childEnv(drop: readonly string[], from: Record<string, string | undefined> = process.env): Record<string, string> {
  const deny = new Set(drop.map((n) => n.toUpperCase()));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(from)) if (v !== undefined && !deny.has(k.toUpperCase())) env[k] = v;
  return env;
}

export interface ExecJob {
  command: string;
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The job's pid once it runs (recorded so a restart after a crash can stop it). */
  onSpawn?: (pid: number) => void;
}

export interface CodeJob {
  codeCommand: string;
  task: string;
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
}

export function runExecJob(job: ExecJob, platform: NodeJS.Platform = process.platform): Promise<JobResult> {
  const refusal = shellRefusal(job.command, platform);
  if (refusal) return Promise.resolve({ ...notStarted(refusal), refused: true });
  return runJob({
    argv: shellArgv(job.command),
    cwd: job.cwd,
    timeoutMs: job.timeoutMs,
    signal: job.signal,
    env: childEnv(EXEC_SECRET_ENV),
    onSpawn: job.onSpawn,
  });
}

/** The code command may well be an AI coding tool that needs its API key, so only Slack's secrets are withheld. */
export function runCodeJob(job: CodeJob): Promise<JobResult> {
  return runJob({
    argv: shellArgv(job.codeCommand),
    cwd: job.cwd,
    stdin: job.task,
    timeoutMs: job.timeoutMs,
    signal: job.signal,
    env: childEnv(SLACK_SECRET_ENV),
    onSpawn: job.onSpawn,
  });
}

async function runJob(opts: Parameters<typeof runProcess>[0]): Promise<JobResult> {
  const started = performance.now();
  let r: RunResult;
  try {
    r = await runProcess(opts);
  } catch (err) {
    // A job that cannot start (missing cwd, no shell) is a failed job with a reason, not a crash.
    const why = err instanceof Error ? err.message : String(err);
    return notStarted(`could not start in ${opts.cwd ?? "the current directory"}: ${why}`, Math.round(performance.now() - started));
  }
  return { exitCode: r.exitCode, output: r.output, timedOut: r.timedOut, durationMs: r.durationMs, truncatedBytes: r.truncatedBytes, aborted: r.aborted };
}

function notStarted(why: string, durationMs = 0): JobResult {
  return { exitCode: null, output: why, timedOut: false, durationMs, truncatedBytes: 0, notStarted: true };
}

/** `1.2 s` under ten seconds, whole seconds above: precise where it matters, short always. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

/** One line: `exit 0 in 1.2 s`, `timed out after 300 s (process tree killed)`. */
export function jobSummary(r: JobResult): string {
  const took = formatSeconds(r.durationMs);
  let line: string;
  if (r.timedOut) line = `timed out after ${took} (process tree killed)`;
  else if (r.aborted) line = `cancelled after ${took} (process tree killed)`;
  else if (r.exitCode === null) line = r.notStarted ? (r.refused ? "not run" : "could not start") : `killed by a signal after ${took}`;
  else line = `exit ${r.exitCode} in ${took}`;
  if (r.truncatedBytes > 0) line += `, ${r.truncatedBytes} bytes of output cut`;
  return line;
}

/**
 * The summary line, then the output's end in a code block, within `maxChars` in all.
 * The end is kept because that is where errors are. Text is raw (not Slack-escaped).
 */
export function formatJobResult(r: JobResult, maxChars = 3000): string {
  const summary = jobSummary(r);
  // A ``` inside the output would close the block early; a zero-width space defuses it.
  const out = r.output.replace(/```/g, "``\u200b`").trimEnd();
  if (!out) return summary.slice(0, maxChars);
  const frame = `${summary}\n\`\`\`\n\n\`\`\``.length;
  const room = maxChars - frame;
  if (room <= 40) return summary.slice(0, maxChars);
  if (out.length <= room) return `${summary}\n\`\`\`\n${out}\n\`\`\``;
  const keepLen = room - 32; // room for the note below
  const note = `[... ${out.length - keepLen} chars cut]\n`;
  const keep = out.slice(out.length - keepLen);
  return `${summary}\n\`\`\`\n${note}${keep}\n\`\`\``;
}
