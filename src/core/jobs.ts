// The jobs port: how approvals run what an approver approved. The core decides whether and
// when a job runs; the platform (src/jobs) knows how: the shell, the process tree, its pid.
import type { ApprovalKind } from "./store.ts";

export interface JobRun {
  exitCode: number | null;
  output: string;
  timedOut: boolean;
  /** The result as the card's thread shows it: a summary line and the output's end, within `maxChars` (raw text). */
  describe(maxChars: number): string;
}

/** What became of a job process a crashed clawdbot left running. */
export type OrphanOutcome =
  /** It was still running and has been killed. */
  | "stopped"
  /** Nothing of it runs any more. */
  | "gone"
  /** Something runs under that pid but it is not our job (pid reused); left alone. */
  | "not-ours"
  /** It was ours and still running, and the kill did not verifiably end it. */
  | "kill-failed";

export interface Jobs {
  /** Why this job could not run as shown (checked before a card is posted); undefined if it can. */
  refusal(kind: ApprovalKind, text: string): string | undefined;
  /**
   * Runs the job until it ends, times out or `signal` aborts; `onSpawn` hears its pid. Never
   * throws. `onOutput` is called whenever the job prints; `latest()` reads its newest output
   * (whole lines, a few KB, redacted like the final output), when the caller wants to show it.
   */
  run(
    job: { kind: ApprovalKind; text: string },
    signal: AbortSignal,
    onSpawn: (pid: number) => void,
    onOutput?: (latest: () => string) => void,
  ): Promise<JobRun>;
  /** Stops a job process a crashed run left behind, if it is still ours (pids are reused). Never throws. */
  stopOrphan(pid: number, startedAt: number | null): OrphanOutcome;
}
