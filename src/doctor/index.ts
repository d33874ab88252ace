// `clawdbot doctor`'s runner: every check at once, each within its limit, in a fixed order;
// a check that hangs or throws is a FAIL line, never a hung or crashed doctor. Everything
// printed goes through the redactor.
import { checkConfig, ConfigError, type Env, gatherEnv, secretsOf } from "../config.ts";
import { makeRedactor } from "../core/redact.ts";
import { VERSION } from "../version.ts";
import { agentCheck } from "./checks/agent.ts";
import { approversCheck } from "./checks/approvers.ts";
import { authCheck } from "./checks/auth.ts";
import { diskCheck } from "./checks/disk.ts";
import { healthPortCheck } from "./checks/health-port.ts";
import { relayCheck } from "./checks/relay.ts";
import { scopesCheck } from "./checks/scopes.ts";
import { settingsCheck } from "./checks/settings.ts";
import { socketModeCheck } from "./checks/socket-mode.ts";
import { storeCheck } from "./checks/store.ts";
import { TOKEN_SETTINGS, tokensCheck } from "./checks/tokens.ts";
import { callSlack, type SlackAnswer } from "./slack.ts";
import { type Check, type CheckResult, type DoctorContext, errText, fail, type Status, secs, warn } from "./types.ts";

export const CHECKS: readonly Check[] = [
  settingsCheck,
  tokensCheck,
  authCheck,
  scopesCheck,
  socketModeCheck,
  storeCheck,
  diskCheck,
  healthPortCheck,
  relayCheck,
  agentCheck,
  approversCheck,
];

/** What `doctor --json` prints. */
export interface DoctorReport {
  version: string;
  /** The worst status of all: pass (exit 0), warn (1), fail (2). */
  worst: Status;
  checks: CheckResult[];
}

/** How long after its limit a check is cut off: time for it to report what timed out. */
const BACKSTOP_GRACE_MS = 1000;

const RANK: Record<Status, number> = { pass: 0, warn: 1, fail: 2 };

export const exitCodeOf = (worst: Status): 0 | 1 | 2 => RANK[worst] as 0 | 1 | 2;

/** The settings as `run` would read them; a bad --env-file is a problem to show, not the end. */
function gather(processEnv: Env, envFile: string | undefined, problems: ConfigError[]): Env {
  const record = (err: unknown) => {
    if (!(err instanceof ConfigError)) throw err;
    if (!problems.some((p) => p.message === err.message)) problems.push(err);
  };
  try {
    return gatherEnv(processEnv, envFile);
  } catch (err) {
    record(err);
  }
  // Without the bad --env-file (clawdbot.env beside the executable still counts), else the
  // process environment alone: the checks go on with what can be read.
  if (envFile) {
    try {
      return gatherEnv(processEnv);
    } catch (err) {
      record(err);
    }
  }
  return { ...processEnv };
}

export interface DoctorSetup {
  ctx: DoctorContext;
  redact: (text: string) => string;
}

export function setUpDoctor(processEnv: Env, envFile?: string): DoctorSetup {
  const problems: ConfigError[] = [];
  const env = gather(processEnv, envFile, problems);
  const checked = checkConfig(env);
  problems.push(...checked.problems);
  const { config } = checked;
  const timeoutMs = config.tuning.doctorCheckTimeoutMs;
  let auth: Promise<SlackAnswer> | undefined;
  const ctx: DoctorContext = {
    env,
    config,
    problems,
    timeoutMs,
    authTest: () => {
      auth ??= callSlack(config.slackApiUrl, "auth.test", config.slackBotToken, {}, timeoutMs);
      return auth;
    },
  };
  // The raw values too: a token the config refused (swapped, mistyped) is still a secret.
  const raw = [...TOKEN_SETTINGS, "ANTHROPIC_API_KEY"].map((k) => env[k]?.trim() ?? "");
  return { ctx, redact: makeRedactor([...secretsOf(config), ...raw]) };
}

async function runCheck(check: Check, ctx: DoctorContext): Promise<CheckResult[]> {
  const bad = check.needs?.find((s) => ctx.problems.some((p) => p.setting === s));
  if (bad) {
    const where = TOKEN_SETTINGS.includes(bad) ? "tokens" : "settings";
    return [warn(check.name, `not checked: ${bad} is not valid (see ${where})`, `fix ${bad} first`)];
  }
  // A backstop: checks bound their own calls by their limit, and say what did not answer.
  const limit = (check.timeoutMs?.(ctx) ?? ctx.timeoutMs) + BACKSTOP_GRACE_MS;
  const ctl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<CheckResult[]>((resolve) => {
    timer = setTimeout(() => {
      ctl.abort(new DOMException(`doctor's ${check.name} check timed out`, "TimeoutError"));
      resolve([fail(check.name, `no result within ${secs(limit)}`, "something it talks to does not answer; run clawdbot doctor again, and check the network")]);
    }, limit);
  });
  try {
    return await Promise.race([check.run(ctx, ctl.signal), timedOut]);
  } catch (err) {
    return [fail(check.name, `could not be checked: ${errText(err)}`, "a bug in clawdbot doctor: please report this line")];
  } finally {
    clearTimeout(timer);
  }
}

export async function runDoctor(setup: DoctorSetup, checks: readonly Check[] = CHECKS): Promise<DoctorReport> {
  const results = (await Promise.all(checks.map((c) => runCheck(c, setup.ctx)))).flat();
  const oneLine = (s: string) => setup.redact(s.replace(/\s+/g, " ").trim());
  const clean = results.map((r) => ({ ...r, found: oneLine(r.found), fix: r.fix === null ? null : oneLine(r.fix) }));
  const worst = clean.reduce<Status>((w, r) => (RANK[r.status] > RANK[w] ? r.status : w), "pass");
  return { version: VERSION, worst, checks: clean };
}

/** One line per result: STATUS, the check, what was found, and the fix; then a count. */
export function renderReport(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const lines = r.checks.map((c) => `${c.status.toUpperCase()}  ${c.name.padEnd(width)}  ${c.found}${c.fix ? ` -> fix: ${c.fix}` : ""}`);
  const count = (s: Status) => r.checks.filter((c) => c.status === s).length;
  lines.push(`doctor: ${count("pass")} passed, ${count("warn")} warnings, ${count("fail")} failed`);
  return lines.join("\n");
}
