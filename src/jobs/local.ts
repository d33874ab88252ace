// The core's jobs port on this machine: exec jobs through the platform shell, code jobs
// through the configured code command, orphans stopped by pid and start time.
import type { JobRun, Jobs } from "../core/jobs.ts";
import { formatJobResult, type JobResult, runCodeJob, runExecJob } from "./exec.ts";
import { stopOrphanJob } from "./orphans.ts";
import { shellRefusal } from "./shell.ts";

export interface LocalJobsOptions {
  cwd: string;
  timeoutMs: number;
  /** CLAWDBOT_CODE_COMMAND; code jobs are refused before a card without it (see Approvals). */
  codeCommand?: string;
  /** The platform whose shell runs exec jobs (tests pass win32). */
  platform?: NodeJS.Platform;
  /** Applied to everything a job printed (configured secrets, URL passwords). */
  redact?: (text: string) => string;
}

function asRun(r: JobResult): JobRun {
  return { exitCode: r.exitCode, output: r.output, timedOut: r.timedOut, describe: (maxChars) => formatJobResult(r, maxChars) };
}

export function localJobs(o: LocalJobsOptions): Jobs {
  const platform = o.platform ?? process.platform;
  return {
    refusal: (kind, text) => (kind === "exec" ? shellRefusal(text, platform) : undefined),
    async run(job, signal, onSpawn, onOutput) {
      try {
        const common = { cwd: o.cwd, timeoutMs: o.timeoutMs, signal, onSpawn, onOutput, redact: o.redact };
        return asRun(
          job.kind === "exec"
            ? await runExecJob({ ...common, command: job.text }, platform)
            : await runCodeJob({ ...common, codeCommand: o.codeCommand ?? "", task: job.text }),
        );
      } catch (err) {
        return asRun({ exitCode: null, output: `could not run: ${(err as Error).message}`, timedOut: false, durationMs: 0, truncatedBytes: 0 });
      }
    },
    stopOrphan: stopOrphanJob,
  };
}
