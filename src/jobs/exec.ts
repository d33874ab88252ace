// Approved jobs: an exec job is a command line run as typed; a code job is the configured
// code command with the task on stdin. Both run through the platform shell with a deadline,
// with the allowlisted environment (job-env.ts), and what they print is redacted here, before
// anything else (the store, Slack, an upload, the agent) sees it.
import { formatSeconds } from "../core/text.ts";
import { jobEnv } from "./job-env.ts";
import { type RunOptions, runProcess, type RunResult } from "./run-process.ts";
import { shellArgv, shellRefusal } from "./shell.ts";
import { describeTree, type TreeFactory, type TreeReport } from "./tree.ts";

export interface JobResult {
  exitCode: number | null;
  output: string;
  timedOut: boolean;
  durationMs: number;
  truncatedBytes: number;
  /** Stopped by the caller's AbortSignal (shutdown); `tree` says what was killed. */
  aborted?: boolean;
  /** The process could not be started (missing cwd, no shell); `output` says why. */
  notStarted?: boolean;
  /** Not started on purpose: the shell could not run the command as shown (`output` says why). */
  refused?: boolean;
  /** What was killed (all of it on timeout or cancel, else what it left running) and what was verified. */
  tree?: TreeReport;
}

interface JobOptions {
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The job's pid once it runs (recorded so a restart after a crash can stop it). */
  onSpawn?: (pid: number) => void;
  /** Applied to everything the job printed before it leaves here (configured secrets, URL passwords). */
  redact?: (text: string) => string;
  /** The job printed something; `latest()` reads its newest output, redacted (see latestOutput). */
  onOutput?: (latest: () => string) => void;
  /** What holds the job's processes together (tests choose; the platform's strongest by default). */
  tree?: TreeFactory;
}

export interface ExecJob extends JobOptions {
  command: string;
}

export interface CodeJob extends JobOptions {
  codeCommand: string;
  task: string;
}

/** How an exec job is spawned on `platform`: the shell's argv and the allowlisted environment. */
export function execSpawn(
  job: ExecJob,
  platform: NodeJS.Platform = process.platform,
  env: Record<string, string | undefined> = process.env,
): Pick<RunOptions, "argv" | "env"> {
  return { argv: shellArgv(job.command, platform), env: jobEnv(platform, env) };
}

export function runExecJob(job: ExecJob, platform: NodeJS.Platform = process.platform): Promise<JobResult> {
  const refusal = shellRefusal(job.command, platform);
  if (refusal) return Promise.resolve({ ...notStarted(refusal), refused: true });
  return runJob(job, execSpawn(job, platform));
}

/** The code command gets the task on stdin and the same environment: no key of the bot's either. */
export function runCodeJob(job: CodeJob): Promise<JobResult> {
  return runJob(job, { argv: shellArgv(job.codeCommand), env: jobEnv(), stdin: job.task });
}

async function runJob(job: JobOptions, spawn: Pick<RunOptions, "argv" | "env" | "stdin">): Promise<JobResult> {
  const started = performance.now();
  const redact = job.redact ?? ((text: string) => text);
  let r: RunResult;
  try {
    r = await runProcess({
      ...spawn,
      cwd: job.cwd,
      timeoutMs: job.timeoutMs,
      signal: job.signal,
      onSpawn: job.onSpawn,
      tree: job.tree,
      ...(job.onOutput ? { onOutput: latestOutput(job.onOutput, redact) } : {}),
    });
  } catch (err) {
    // A job that cannot start (missing cwd, no shell) is a failed job with a reason, not a crash.
    const why = err instanceof Error ? err.message : String(err);
    return notStarted(redact(`could not start in ${job.cwd}: ${why}`), Math.round(performance.now() - started));
  }
  // The assembled output, not chunk by chunk: a secret split across two reads of a pipe is whole here.
  const result: JobResult = {
    exitCode: r.exitCode,
    output: redact(r.output),
    timedOut: r.timedOut,
    durationMs: r.durationMs,
    truncatedBytes: r.truncatedBytes,
    aborted: r.aborted,
  };
  if (r.tree) result.tree = r.tree;
  return result;
}

/** How much of the newest output is kept for a look while the job runs. */
const LATEST_CHARS = 8 * 1024;

/**
 * Keeps the newest output (both streams, as they arrive) for `onOutput`'s reader, redacted
 * when read. The window's first line is dropped once output was cut at its start: a secret cut
 * in two there would not be recognised by the redactor, so that part is never shown.
 */
function latestOutput(onOutput: (latest: () => string) => void, redact: (text: string) => string): (text: string) => void {
  let tail = "";
  let cut = false;
  const latest = () => {
    const text = redact(tail);
    if (!cut) return text;
    const nl = text.indexOf("\n");
    return nl >= 0 ? text.slice(nl + 1) : text.slice(Math.min(text.length, 1024));
  };
  return (text) => {
    tail += text;
    if (tail.length > LATEST_CHARS) {
      tail = tail.slice(tail.length - LATEST_CHARS);
      cut = true;
    }
    onOutput(latest);
  };
}

function notStarted(why: string, durationMs = 0): JobResult {
  return { exitCode: null, output: why, timedOut: false, durationMs, truncatedBytes: 0, notStarted: true };
}


/**
 * One line: `exit 0 in 1.2 s`, `timed out after 300 s (process tree killed)`. What was killed
 * is said only as far as it was verified (see describeTree).
 */
export function jobSummary(r: JobResult): string {
  const took = formatSeconds(r.durationMs);
  const killed = (what: "kill" | "leftovers") => (r.tree ? ` (${describeTree(r.tree, what)})` : "");
  let line: string;
  if (r.timedOut) line = `timed out after ${took}${killed("kill")}`;
  else if (r.aborted) line = `cancelled after ${took}${killed("kill")}`;
  else if (r.exitCode === null) line = r.notStarted ? (r.refused ? "not run" : "could not start") : `killed by a signal after ${took}${killed("leftovers")}`;
  else line = `exit ${r.exitCode} in ${took}${killed("leftovers")}`;
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
