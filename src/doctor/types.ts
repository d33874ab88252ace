// What a check of `clawdbot doctor` is and what it reports: one line each, PASS, WARN or FAIL,
// with what was found and, unless it passed, what to do about it.
import type { Config, ConfigError, Env } from "../config.ts";
import type { SlackAnswer } from "./slack.ts";

export type Status = "pass" | "warn" | "fail";

export interface CheckResult {
  /** The check, e.g. `auth.test`; a check may report several lines under related names. */
  name: string;
  status: Status;
  found: string;
  /** What to do; null when it passed. */
  fix: string | null;
}

export interface DoctorContext {
  /** The settings as the bot would see them (process environment, --env-file, clawdbot.env). */
  env: Env;
  /** The configuration, with defaults in place of the bad settings. */
  config: Config;
  /** Every bad setting. */
  problems: readonly ConfigError[];
  /** Each check's limit unless it asks for another. */
  timeoutMs: number;
  /** `auth.test` with the bot token, called once and shared by the checks that need it. */
  authTest(): Promise<SlackAnswer>;
}

export interface Check {
  readonly name: string;
  /** Settings it relies on: while one of them is bad, the check is not run (settings names it). */
  readonly needs?: readonly string[];
  /** Its limit, when the default does not fit (the agent command may think for a while). */
  timeoutMs?(ctx: DoctorContext): number;
  /** `signal` aborts when the limit is reached. Never throws on purpose: a failure is a result. */
  run(ctx: DoctorContext, signal: AbortSignal): Promise<CheckResult[]>;
}

export const pass = (name: string, found: string): CheckResult => ({ name, status: "pass", found, fix: null });
export const warn = (name: string, found: string, fix: string): CheckResult => ({ name, status: "warn", found, fix });
export const fail = (name: string, found: string, fix: string): CheckResult => ({ name, status: "fail", found, fix });

/** A duration for people: "5 s", "0.5 s". */
export const secs = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/** An error's message on one line. */
export function errText(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const msg = typeof e?.message === "string" && e.message ? e.message : String(err);
  return msg.replace(/\s+/g, " ").trim();
}
