// Every setting of the contract, read in one place: typed, validated, resolved.
// Sources, strongest first: the process environment, --env-file, clawdbot.env beside
// the executable. A bad value is a ConfigError naming the setting and the fix.
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { dirname, join } from "node:path";

export type Mode = "socket" | "http";
export type AgentKind = "echo" | "command" | "anthropic";

export interface Config {
  slackBotToken: string;
  slackAppToken: string;
  slackSigningSecret: string;
  slackApiUrl: string;
  mode: Mode;
  httpPort: number;
  dataDir: string;
  healthHost: string;
  healthPort: number;
  /** All durations are in milliseconds inside the program; the environment speaks seconds. */
  staleAfterMs: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  livenessTimeoutMs: number;
  heartbeatChannel: string | undefined;
  heartbeatIntervalMs: number;
  canaryTimeoutMs: number;
  relayUrl: string | undefined;
  approvers: string[];
  admins: string[];
  /** Where cards go that the conversation they were asked in would hide from the approvers. */
  approvalChannel: string | undefined;
  /** CLAWDBOT_SELF_APPROVAL: false means nobody approves a job they requested themselves. */
  selfApproval: boolean;
  approvalTtlMs: number;
  agent: AgentKind;
  anthropicApiKey: string | undefined;
  anthropicBaseUrl: string | undefined;
  model: string;
  agentCommand: string | undefined;
  agentTimeoutMs: number;
  codeCommand: string | undefined;
  execTimeoutMs: number;
  execCwd: string;
  logRetentionBytes: number;
  /** A shared PostgreSQL database (a cluster); unset: the SQLite file in the data dir. */
  databaseUrl: string | undefined;
  /** How this process names itself in health, logs, leases and state dump. */
  instanceId: string;
  /** A peer silent this long is dead: another instance takes its work over. */
  instanceTimeoutMs: number;
  /** Intervals the contract does not name: defaults for production, milliseconds for tests. */
  tuning: Tuning;
}

export interface Tuning {
  /** First outbox retry after a transient Slack error (doubles to 5 min). */
  outboxRetryInitialMs: number;
  /** How often expired approvals are looked for. */
  expiryCheckMs: number;
  /** Per attempt of a relay call (the contract's 6 s). */
  relayTimeoutMs: number;
  /** A Slack Web API call with no answer by then has an unknown outcome. */
  slackCallTimeoutMs: number;
  /** How long `replay` keeps trying. */
  replayDeadlineMs: number;
  /** Each of `doctor`'s checks gives up after this (the agent command's gets three times it). */
  doctorCheckTimeoutMs: number;
  /** How often an instance renews its presence and looks for dead peers (well under the instance timeout). */
  presenceIntervalMs: number;
  /** SQLite: how long a write waits for another process's lock before it fails (the file locked for long). */
  storeBusyMs: number;
  /** When a catch-up run spent its budget of Slack calls, the next one starts this much later. */
  catchupNextRunMs: number;
  /** At most one Slack call per this long per answer shown as it grows. */
  streamIntervalMs: number;
  /** An answer not in Slack after this long gets a sign of life (an answer sooner needs none). */
  signAfterMs: number;
  /** A job running this long gets its latest output posted in the card's thread... */
  jobProgressAfterMs: number;
  /** ...updated in place at most this often. */
  jobProgressEveryMs: number;
}

export const DEFAULT_MODEL = "claude-sonnet-4-5";

export class ConfigError extends Error {
  readonly code = "config";
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
  }
}

export type Env = Record<string, string | undefined>;

/**
 * An env file's text. Windows editors save UTF-8 with a BOM, and Windows PowerShell's
 * `>` writes UTF-16: read as plain UTF-8 either would silently lose every setting.
 */
export function decodeEnvFile(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  return new TextDecoder("utf-8").decode(bytes).replace(/^\uFEFF/, "");
}

/** Parses KEY=VALUE lines (# comments, optional quotes, optional `export `). */
export function parseEnvFile(text: string): Env {
  const env: Env = {};
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2] ?? "";
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] ?? "";
    else value = value.replace(/\s+#.*$/, "");
    env[m[1] as string] = value;
  }
  return env;
}

/** An env file's settings; a directory or an unreadable file is a ConfigError naming it. */
function readEnvFile(path: string, setting: string): Env {
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw new ConfigError(setting, `${path} is a directory; pass the path of a KEY=VALUE file`);
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOENT") throw new ConfigError(setting, `${path} does not exist; pass the path of a KEY=VALUE file`);
    throw new ConfigError(setting, `cannot read ${path} (${e.code ?? e.message}); check its permissions`);
  }
  return parseEnvFile(decodeEnvFile(bytes));
}

/** The environment as the program sees it: process env over --env-file over clawdbot.env. */
export function gatherEnv(processEnv: Env, envFile?: string, exeDir = dirname(process.execPath)): Env {
  let merged: Env = {};
  const besideExe = join(exeDir, "clawdbot.env");
  if (existsSync(besideExe)) merged = { ...merged, ...readEnvFile(besideExe, "clawdbot.env") };
  if (envFile) merged = { ...merged, ...readEnvFile(envFile, "--env-file") };
  // An empty variable in the environment (`set X=` in a Task Scheduler action) does not
  // blank out a value the env file gives: empty counts as unset everywhere.
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined && v.trim() !== "") merged[k] = v;
  return merged;
}

export function defaultDataDir(env: Env, platform = process.platform): string {
  if (platform === "win32") {
    const base = env.LOCALAPPDATA || join(env.USERPROFILE || homedir(), "AppData", "Local");
    return join(base, "clawdbot");
  }
  const state = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(state, "clawdbot");
}

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

function seconds(env: Env, name: string, fallback: number, { min = 0 } = {}): number {
  const v = str(env, name);
  if (v === undefined) return fallback * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    throw new ConfigError(name, `"${v}" is not a number of seconds >= ${min}; set it to e.g. ${fallback}`);
  }
  return Math.round(n * 1000);
}

function millis(env: Env, name: string, fallback: number): number {
  const v = str(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(name, `"${v}" is not a positive number of milliseconds; unset it for ${fallback}`);
  return n;
}

function port(env: Env, name: string, fallback: number): number {
  const v = str(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(name, `"${v}" is not a TCP port (0-65535); set it to e.g. ${fallback}`);
  }
  return n;
}

function ids(env: Env, name: string): string[] | undefined {
  const v = str(env, name);
  if (v === undefined) return undefined;
  const list = v.split(",").map((s) => s.trim()).filter(Boolean);
  for (const id of list) {
    if (!/^[UW][A-Z0-9]+$/.test(id)) {
      throw new ConfigError(name, `"${id}" is not a Slack user ID (like U0123ABCD); give comma-separated user IDs`);
    }
  }
  return list;
}

function channelId(env: Env, name: string): string | undefined {
  const v = str(env, name);
  if (v !== undefined && !/^[CG][A-Z0-9]{2,}$/.test(v)) {
    throw new ConfigError(name, `"${v}" is not a Slack channel ID (like C0123ABCD; a name like #ops will not do): copy it from the channel's details`);
  }
  return v;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const v = str(env, name);
  if (v === undefined) return fallback;
  if (v.toLowerCase() === "on") return true;
  if (v.toLowerCase() === "off") return false;
  throw new ConfigError(name, `"${v}" is not on or off; set it to on or off (default ${fallback ? "on" : "off"})`);
}

function url(env: Env, name: string): string | undefined {
  const v = str(env, name);
  if (v === undefined) return undefined;
  try {
    const u = new URL(v);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    // The value is not echoed whole: it may carry a password (https://user:pass@host).
    const shown = v.replace(/:[^/@]*@/, ":[redacted]@");
    throw new ConfigError(name, `"${shown}" is not an http(s) URL; give one like https://host/path`);
  }
  return v;
}

/** The password of a URL with credentials, as written, as URL normalises it and decoded, for the redactor. */
function urlPassword(v: string | undefined): string[] {
  if (!v) return [];
  const raw = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]*)@/i.exec(v)?.[1];
  const out = raw ? [raw] : [];
  try {
    const p = new URL(v).password;
    if (p) out.push(p, decodeURIComponent(p));
  } catch {
    // not a URL: the raw form is all there is
  }
  return out;
}

/** Bun's SQL client also reads `?password=` and `?sslpassword=` (a client key's passphrase) from a database URL. */
function queryPasswords(v: string | undefined): string[] {
  if (!v) return [];
  try {
    const q = new URL(v).searchParams;
    return ["password", "sslpassword"].flatMap((k) => q.getAll(k));
  } catch {
    return [];
  }
}

/** Bun's SQL client's TLS modes (its docs, "SSL Modes Overview"), libpq's names. */
const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

function databaseUrl(env: Env): string | undefined {
  const name = "CLAWDBOT_DATABASE_URL";
  const v = str(env, name);
  if (v === undefined) return undefined;
  // Never echoed whole: it carries the password (in the user part, or as ?password=).
  const shown = v
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, "$1:[redacted]@")
    .replace(/([?&](?:ssl)?password=)[^&]*/gi, "$1[redacted]");
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    // Not shown at all: where its password starts cannot be told.
    throw new ConfigError(name, "is not a URL; give one like postgres://clawdbot:PASSWORD@db.example.com:5432/clawdbot");
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new ConfigError(name, `"${shown}" is not a postgres:// or postgresql:// URL; unset it to use SQLite in the data dir`);
  }
  if (!u.hostname && !u.searchParams.get("host")) throw new ConfigError(name, `"${shown}" names no host; give one like postgres://user@db.example.com/clawdbot`);
  const sslmode = u.searchParams.get("sslmode");
  if (sslmode !== null && !SSL_MODES.includes(sslmode)) {
    throw new ConfigError(name, `sslmode "${sslmode}" is not one of ${SSL_MODES.join(", ")}`);
  }
  return v;
}

function instanceId(env: Env): string {
  const v = str(env, "CLAWDBOT_INSTANCE_ID");
  if (v === undefined) return `${hostname()}:${process.pid}`;
  if (!/^[\w.:@-]{1,100}$/.test(v)) {
    throw new ConfigError("CLAWDBOT_INSTANCE_ID", `"${v.slice(0, 100)}" is not an instance name: use up to 100 letters, digits and . _ : @ -, e.g. bot-1`);
  }
  return v;
}

function token(env: Env, name: string, prefix: string, required: boolean): string {
  const v = str(env, name);
  if (v === undefined) {
    if (required) throw new ConfigError(name, `is required; set it to your app's ${prefix}... token`);
    return "";
  }
  if (!v.startsWith(prefix)) throw new ConfigError(name, `must start with "${prefix}"; check you did not swap the bot and app tokens`);
  return v;
}

export interface ConfigOverrides {
  mode?: string;
}

/** Resolves and validates the whole configuration, or throws the first ConfigError. */
export function loadConfig(env: Env, overrides: ConfigOverrides = {}, platform = process.platform): Config {
  const { config, problems } = checkConfig(env, overrides, platform);
  if (problems[0]) throw problems[0];
  return config;
}

export interface ConfigCheck {
  /** The configuration, with the default in place of every bad setting. */
  config: Config;
  /** Every bad setting, in the order loadConfig meets them (`doctor` shows them all). */
  problems: ConfigError[];
}

/** Validates every setting, carrying on past a bad one with its default, so all problems are found at once. */
export function checkConfig(env: Env, overrides: ConfigOverrides = {}, platform = process.platform): ConfigCheck {
  const problems: ConfigError[] = [];
  /** A validator's value; when it throws a ConfigError, the error is recorded and `fallback` used. */
  const collect = <T>(fallback: T, read: () => T): T => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(err);
      return fallback;
    }
  };
  /** An interval of config.tuning, in milliseconds: its default also stands in when it is bad. */
  const tuned = (name: string, dflt: number): number => collect(dflt, () => millis(env, name, dflt));
  const bad = (setting: string, problem: string) => void problems.push(new ConfigError(setting, problem));

  let mode: Mode = "socket";
  const modeRaw = overrides.mode ?? str(env, "CLAWDBOT_MODE") ?? "socket";
  if (modeRaw === "socket" || modeRaw === "http") mode = modeRaw;
  else bad(overrides.mode ? "--mode" : "CLAWDBOT_MODE", `"${modeRaw}" is not a mode; use socket or http`);

  const slackBotToken = collect("", () => token(env, "SLACK_BOT_TOKEN", "xoxb-", true));
  const slackAppToken = collect("", () => token(env, "SLACK_APP_TOKEN", "xapp-", mode === "socket"));
  const slackSigningSecret = str(env, "SLACK_SIGNING_SECRET") ?? "";
  if (mode === "http" && !slackSigningSecret) {
    bad("SLACK_SIGNING_SECRET", "is required in http mode; copy it from your app's Basic Information page");
  }
  let slackApiUrl = collect(undefined, () => url(env, "SLACK_API_URL")) ?? "https://slack.com/api/";
  if (!slackApiUrl.endsWith("/")) slackApiUrl += "/";

  // 0 would make every retry immediate (doubling 0 stays 0): hammering Slack.
  const reconnectInitialMs = collect(5000, () => seconds(env, "CLAWDBOT_RECONNECT_INITIAL", 5, { min: 0.001 }));
  const reconnectMaxMs = collect(300_000, () => seconds(env, "CLAWDBOT_RECONNECT_MAX", 300, { min: 0.001 }));
  if (reconnectMaxMs < reconnectInitialMs) {
    bad("CLAWDBOT_RECONNECT_MAX", "is smaller than CLAWDBOT_RECONNECT_INITIAL; make it at least as large");
  }

  const approvers = collect(undefined, () => ids(env, "CLAWDBOT_APPROVERS")) ?? [];
  const admins = collect(undefined, () => ids(env, "CLAWDBOT_ADMINS")) ?? approvers;

  const anthropicApiKey = str(env, "ANTHROPIC_API_KEY");
  const agentCommand = str(env, "CLAWDBOT_AGENT_COMMAND");
  let agent: AgentKind = "echo";
  const agentRaw = str(env, "CLAWDBOT_AGENT") ?? (anthropicApiKey ? "anthropic" : agentCommand ? "command" : "echo");
  if (agentRaw === "echo" || agentRaw === "command" || agentRaw === "anthropic") agent = agentRaw;
  else bad("CLAWDBOT_AGENT", `"${agentRaw}" is not an agent; use echo, command or anthropic`);
  if (agent === "anthropic" && !anthropicApiKey) {
    bad("ANTHROPIC_API_KEY", "is required by the anthropic agent; set it or choose CLAWDBOT_AGENT=echo|command");
  }
  if (agent === "command" && !agentCommand) {
    bad("CLAWDBOT_AGENT_COMMAND", "is required by the command agent; set it to the command that answers");
  }

  const dataDir = str(env, "CLAWDBOT_DATA_DIR") ?? defaultDataDir(env, platform);
  let retentionMb = Number(str(env, "CLAWDBOT_LOG_RETENTION_MB") ?? "20");
  if (!Number.isFinite(retentionMb) || retentionMb <= 0) {
    bad("CLAWDBOT_LOG_RETENTION_MB", `"${env.CLAWDBOT_LOG_RETENTION_MB}" is not a positive number of megabytes; set it to e.g. 20`);
    retentionMb = 20;
  }

  const healthHost = str(env, "CLAWDBOT_HEALTH_HOST") ?? "127.0.0.1";

  const instanceTimeoutMs = collect(30_000, () => seconds(env, "CLAWDBOT_INSTANCE_TIMEOUT", 30, { min: 0.5 }));
  // A renewal every few seconds, at least three per timeout, so one slow renewal is not death.
  const presenceIntervalMs = collect(5000, () => millis(env, "CLAWDBOT_PRESENCE_MS", Math.min(5000, Math.floor(instanceTimeoutMs / 3))));
  if (presenceIntervalMs * 2 > instanceTimeoutMs) {
    bad("CLAWDBOT_PRESENCE_MS", `${presenceIntervalMs} ms is more than half of CLAWDBOT_INSTANCE_TIMEOUT; renew at least twice per timeout`);
  }

  const config: Config = {
    slackBotToken,
    slackAppToken,
    slackSigningSecret,
    slackApiUrl,
    mode,
    httpPort: collect(3000, () => port(env, "CLAWDBOT_HTTP_PORT", 3000)),
    dataDir,
    healthHost,
    healthPort: collect(8093, () => port(env, "CLAWDBOT_HEALTH_PORT", 8093)),
    staleAfterMs: collect(600_000, () => seconds(env, "CLAWDBOT_STALE_AFTER", 600, { min: 0.001 })),
    reconnectInitialMs,
    reconnectMaxMs,
    livenessTimeoutMs: collect(30_000, () => seconds(env, "CLAWDBOT_LIVENESS_TIMEOUT", 30, { min: 0.001 })),
    heartbeatChannel: str(env, "CLAWDBOT_HEARTBEAT_CHANNEL"),
    heartbeatIntervalMs: collect(900_000, () => seconds(env, "CLAWDBOT_HEARTBEAT_INTERVAL", 900, { min: 0.001 })),
    canaryTimeoutMs: collect(30_000, () => seconds(env, "CLAWDBOT_CANARY_TIMEOUT", 30, { min: 0.001 })),
    relayUrl: collect(undefined, () => url(env, "CLAWDBOT_RELAY_URL") ?? url(env, "RELAY_URL")),
    approvers,
    admins,
    approvalChannel: collect(undefined, () => channelId(env, "CLAWDBOT_APPROVAL_CHANNEL")),
    selfApproval: collect(true, () => onOff(env, "CLAWDBOT_SELF_APPROVAL", true)),
    approvalTtlMs: collect(86_400_000, () => seconds(env, "CLAWDBOT_APPROVAL_TTL", 86400, { min: 0.001 })),
    agent,
    anthropicApiKey,
    anthropicBaseUrl: collect(undefined, () => url(env, "ANTHROPIC_BASE_URL")),
    model: str(env, "CLAWDBOT_MODEL") ?? DEFAULT_MODEL,
    agentCommand,
    agentTimeoutMs: collect(120_000, () => seconds(env, "CLAWDBOT_AGENT_TIMEOUT", 120, { min: 0.001 })),
    codeCommand: str(env, "CLAWDBOT_CODE_COMMAND"),
    execTimeoutMs: collect(300_000, () => seconds(env, "CLAWDBOT_EXEC_TIMEOUT", 300, { min: 0.001 })),
    execCwd: str(env, "CLAWDBOT_EXEC_CWD") ?? dataDir,
    logRetentionBytes: Math.round(retentionMb * 1024 * 1024),
    databaseUrl: collect(undefined, () => databaseUrl(env)),
    instanceId: collect(`${hostname()}:${process.pid}`, () => instanceId(env)),
    instanceTimeoutMs,
    tuning: {
      outboxRetryInitialMs: tuned("CLAWDBOT_OUTBOX_RETRY_MS", 1000),
      expiryCheckMs: tuned("CLAWDBOT_EXPIRY_CHECK_MS", 30_000),
      relayTimeoutMs: tuned("CLAWDBOT_RELAY_TIMEOUT_MS", 6000),
      slackCallTimeoutMs: tuned("CLAWDBOT_SLACK_CALL_TIMEOUT_MS", 10_000),
      replayDeadlineMs: tuned("CLAWDBOT_REPLAY_DEADLINE_MS", 120_000),
      doctorCheckTimeoutMs: tuned("CLAWDBOT_DOCTOR_TIMEOUT_MS", 5000),
      presenceIntervalMs,
      storeBusyMs: tuned("CLAWDBOT_STORE_BUSY_MS", 5000),
      catchupNextRunMs: tuned("CLAWDBOT_CATCHUP_NEXT_RUN_MS", 60_000),
      streamIntervalMs: tuned("CLAWDBOT_STREAM_INTERVAL_MS", 1000),
      signAfterMs: tuned("CLAWDBOT_SIGN_AFTER_MS", 300),
      jobProgressAfterMs: tuned("CLAWDBOT_JOB_PROGRESS_AFTER_MS", 10_000),
      jobProgressEveryMs: tuned("CLAWDBOT_JOB_PROGRESS_EVERY_MS", 5000),
    },
  };
  return { config, problems };
}

/** The secrets of a config, for the redactor. */
export function secretsOf(c: Config): string[] {
  return [
    c.slackBotToken,
    c.slackAppToken,
    c.slackSigningSecret,
    c.anthropicApiKey ?? "",
    ...urlPassword(c.relayUrl),
    ...urlPassword(c.anthropicBaseUrl),
    ...urlPassword(c.databaseUrl),
    ...queryPasswords(c.databaseUrl),
  ].filter((s) => s.length >= 6);
}

/** 127/8, ::1 and localhost: a health server bound there is not reachable from other machines. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || h === "[::1]" || h.startsWith("127.");
}

/** Allowed but worth a line at start-up. */
export function configWarnings(c: Config): string[] {
  const out: string[] = [];
  if (!isLoopbackHost(c.healthHost)) {
    out.push(
      `CLAWDBOT_HEALTH_HOST is ${c.healthHost}: /health, /metrics and the status page (no secrets, but status, counts, pending commands and recent errors) are reachable from other machines; set it to 127.0.0.1 unless a remote monitor needs them`,
    );
  }
  return out;
}
