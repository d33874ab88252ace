// `clawdbot doctor` in-process against the emulator and the stand-ins, each failure injected:
// the line it gives (status, what was found, the fix) and the exit code.
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import { runCommand } from "citty";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import doctorCmd from "../../src/cli/doctor.ts";
import { CliExit } from "../../src/cli/exit.ts";
import type { DoctorReport } from "../../src/doctor/index.ts";
import type { CheckResult } from "../../src/doctor/types.ts";
import { judgeFreeSpace } from "../../src/doctor/checks/disk.ts";
import { executableOf } from "../../src/doctor/checks/agent.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { openStore, storeLocation } from "../../src/store/index.ts";
import { startAnthropicStandIn } from "../stand-ins/anthropic.ts";
import { startRelayStandIn } from "../stand-ins/relay.ts";
import { cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

const APPROVER = "UALICE";
const CHECK_NAMES = [
  "settings",
  "tokens",
  "auth.test",
  "scopes",
  "apps.connections.open",
  "store",
  "store.writable",
  "disk",
  "health-port",
  "relay",
  "agent",
  "approvers",
];

let emu: SlackEmulator;
let dir: string;
const stops: (() => unknown)[] = [];

beforeEach(async () => {
  emu = await startEmulator();
  emu.addUser(APPROVER, { realName: "Alice" });
  dir = tempDir("clawdbot-doctor-");
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await emu.stop();
  cleanup(dir);
});

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** A setup where every check passes: command agent `cat`, one approver, a free health port. */
function goodEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: emu.options.botToken,
    SLACK_APP_TOKEN: emu.options.appToken,
    SLACK_API_URL: emu.apiUrl,
    CLAWDBOT_DATA_DIR: join(dir, "data"),
    CLAWDBOT_HEALTH_PORT: String(freePort()),
    CLAWDBOT_APPROVERS: APPROVER,
    CLAWDBOT_AGENT_COMMAND: "cat",
    CLAWDBOT_DOCTOR_TIMEOUT_MS: "2000",
    ...extra,
  };
}

/** The variables doctor reads: kept out of the test process's environment while it runs. */
const OURS = /^(SLACK_|CLAWDBOT_|ANTHROPIC_|RELAY_URL$)/;

/** Runs `clawdbot doctor ...rawArgs` in-process, our variables kept out: the report and the exit code. */
async function cli(rawArgs: string[]): Promise<{ report: DoctorReport; code: number; out: string }> {
  const saved = Object.entries(process.env).filter(([k]) => OURS.test(k));
  for (const [k] of saved) delete process.env[k];
  const lines: string[] = [];
  const log = spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
  let code = 0;
  try {
    await runCommand(doctorCmd, { rawArgs });
  } catch (err) {
    if (!(err instanceof CliExit)) throw err;
    code = err.exitCode;
  } finally {
    log.mockRestore();
    for (const [k, v] of saved) process.env[k] = v;
  }
  const out = lines.join("\n");
  return { report: JSON.parse(out) as DoctorReport, code, out };
}

/** `clawdbot doctor --env-file <env> --json`. */
function doctor(env: Record<string, string>): Promise<{ report: DoctorReport; code: number; out: string }> {
  const file = join(dir, "doctor.env");
  writeFileSync(file, Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n"));
  return cli(["--env-file", file, "--json"]);
}

const named = (r: DoctorReport, name: string): CheckResult[] => r.checks.filter((c) => c.name === name);

function only(r: DoctorReport, name: string): CheckResult {
  const found = named(r, name);
  expect(found).toHaveLength(1);
  return found[0] as CheckResult;
}

/** Every check other than those named passed. */
function othersPass(r: DoctorReport, ...except: string[]): void {
  const others = r.checks.filter((c) => !except.includes(c.name) && c.status !== "pass");
  expect(others).toEqual([]);
}

describe("doctor: exit codes", () => {
  test("a good setup passes every check and exits 0", async () => {
    const relay = startRelayStandIn();
    stops.push(() => relay.stop());
    const { report, code } = await doctor(goodEnv({ CLAWDBOT_RELAY_URL: relay.url }));
    expect(report.checks.filter((c) => c.status !== "pass")).toEqual([]);
    expect(code).toBe(0);
    expect(report.worst).toBe("pass");
    expect([...new Set(report.checks.map((c) => c.name))]).toEqual(CHECK_NAMES);
    for (const c of report.checks) expect(c.fix).toBeNull();
    expect(only(report, "auth.test").found).toContain("UBOT");
    expect(only(report, "approvers").found).toContain("UALICE (Alice)");
    expect(only(report, "agent").found).toContain("cat answered");
    expect(only(report, "health-port").found).toContain("is free: a bot would start");
    // The relay got one /context question and nothing was recorded with /log.
    expect(relay.callsTo("/context")).toHaveLength(1);
    expect(relay.callsTo("/log")).toHaveLength(0);
    // Only looked: no connection was opened and nothing was posted.
    expect(emu.openConnections()).toBe(0);
    expect(emu.messages()).toEqual([]);
  });

  test("warnings only (echo agent, no approvers) exit 1", async () => {
    const env = goodEnv();
    delete (env as Record<string, string | undefined>).CLAWDBOT_AGENT_COMMAND;
    delete (env as Record<string, string | undefined>).CLAWDBOT_APPROVERS;
    const { report, code } = await doctor(env);
    expect(code).toBe(1);
    expect(report.worst).toBe("warn");
    expect(only(report, "agent")).toMatchObject({ status: "warn", found: expect.stringContaining("echo agent") });
    expect(only(report, "approvers")).toMatchObject({ status: "warn", found: expect.stringContaining("CLAWDBOT_APPROVERS is not set") });
    othersPass(report, "agent", "approvers");
  });
});

describe("doctor: settings and tokens", () => {
  test("every bad setting is named at once, each with its fix, and the checks that need one wait", async () => {
    const { report, code } = await doctor(
      goodEnv({ CLAWDBOT_HEALTH_PORT: "99999", CLAWDBOT_STALE_AFTER: "soon", CLAWDBOT_APPROVERS: "bob", CLAWDBOT_LOG_RETENTION_MB: "0" }),
    );
    expect(code).toBe(2);
    const settings = named(report, "settings");
    expect(settings.map((s) => s.status)).toEqual(["fail", "fail", "fail", "fail"]);
    expect(settings.map((s) => s.found.split(":")[0])).toEqual([
      "CLAWDBOT_APPROVERS",
      "CLAWDBOT_LOG_RETENTION_MB",
      "CLAWDBOT_HEALTH_PORT",
      "CLAWDBOT_STALE_AFTER",
    ]);
    expect(settings[2]?.fix).toBe("set it to e.g. 8093");
    expect(only(report, "health-port")).toMatchObject({ status: "warn", found: "not checked: CLAWDBOT_HEALTH_PORT is not valid (see settings)" });
    expect(only(report, "approvers").status).toBe("warn");
  });

  test("a missing --env-file is a settings failure, not the end of the checks", async () => {
    const { report, code } = await cli(["--env-file", join(dir, "nope.env"), "--json"]);
    expect(code).toBe(2);
    expect(named(report, "settings")[0]).toMatchObject({ status: "fail", found: expect.stringContaining("--env-file") });
    expect(named(report, "tokens")[0]?.found).toBe("SLACK_BOT_TOKEN is not set");
    expect([...new Set(report.checks.map((c) => c.name))]).toEqual(CHECK_NAMES);
  });

  test("swapped tokens are named as swapped, and neither value is printed", async () => {
    const bot = "xoxb-1111-2222-secretbotvalue";
    const app = "xapp-1-A0001-3333-secretappvalue";
    const { report, code, out } = await doctor(goodEnv({ SLACK_BOT_TOKEN: app, SLACK_APP_TOKEN: bot }));
    expect(code).toBe(2);
    expect(only(report, "tokens")).toMatchObject({ status: "fail", found: expect.stringContaining("swapped"), fix: "swap the two values" });
    expect(only(report, "auth.test").found).toBe("not checked: SLACK_BOT_TOKEN is not valid (see tokens)");
    expect(out).not.toContain("secretbotvalue");
    expect(out).not.toContain("secretappvalue");
    expect(named(report, "settings")).toEqual([expect.objectContaining({ status: "pass" })]);
  });

  test("http mode needs the signing secret; a user token is named as one", async () => {
    const { report } = await doctor(goodEnv({ CLAWDBOT_MODE: "http", SLACK_BOT_TOKEN: "xoxp-1-2-3-user" }));
    const tokens = named(report, "tokens");
    expect(tokens.map((t) => t.found)).toEqual([
      "SLACK_BOT_TOKEN holds a user token (xoxp-)",
      "SLACK_SIGNING_SECRET is not set: http mode needs it to verify Slack's requests",
    ]);
    expect(only(report, "apps.connections.open")).toMatchObject({ status: "pass", found: expect.stringContaining("http mode") });
  });
});

describe("doctor: Slack", () => {
  test("a revoked bot token is named with Slack's error, and the checks that need it say so", async () => {
    emu.fault("auth.test", { error: "token_revoked" });
    const { report, code } = await doctor(goodEnv());
    expect(code).toBe(2);
    const auth = only(report, "auth.test");
    expect(auth).toMatchObject({ status: "fail", found: expect.stringContaining("token_revoked") });
    expect(auth.fix).toContain("reinstall the app");
    expect(only(report, "scopes")).toMatchObject({ status: "warn", found: expect.stringContaining("see auth.test") });
    expect(only(report, "approvers")).toMatchObject({ status: "warn", found: expect.stringContaining("see auth.test") });
  });

  test("an invalid bot token is invalid_auth", async () => {
    const { report } = await doctor(goodEnv({ SLACK_BOT_TOKEN: "xoxb-not-the-one" }));
    expect(only(report, "auth.test")).toMatchObject({ status: "fail", found: "Slack does not accept SLACK_BOT_TOKEN (invalid_auth)" });
  });

  test("a missing essential scope fails, a missing optional one warns, each named with what breaks", async () => {
    emu.revokeScopes("chat:write", "files:write");
    const { report, code } = await doctor(goodEnv());
    expect(code).toBe(2);
    const scopes = named(report, "scopes");
    expect(scopes.map((s) => [s.status, s.found.split(" ")[0]])).toEqual([
      ["fail", "chat:write"],
      ["warn", "files:write"],
    ]);
    expect(scopes[1]?.found).toContain("instead of a file");
    expect(scopes[0]?.fix).toContain("reinstall the app");
    expect(scopes[0]?.fix).toContain("clawdbot manifest");
  });

  test("apps.connections.open refused: Slack's error, naming the app token", async () => {
    emu.fault("apps.connections.open", { error: "invalid_auth" });
    const { report, code } = await doctor(goodEnv());
    expect(code).toBe(2);
    expect(only(report, "apps.connections.open")).toMatchObject({ status: "fail", found: "Slack does not accept SLACK_APP_TOKEN (invalid_auth)" });
    othersPass(report, "apps.connections.open");
  });

  test("an unknown, a deactivated and a bot approver each fail by ID", async () => {
    emu.addUser("UGONE", { realName: "Gone", deleted: true });
    emu.addUser("UROBOT", { realName: "Robot", isBot: true });
    const { report, code } = await doctor(goodEnv({ CLAWDBOT_APPROVERS: `${APPROVER},UNOBODY,UGONE,UROBOT` }));
    expect(code).toBe(2);
    expect(named(report, "approvers").map((a) => [a.status, a.found])).toEqual([
      ["fail", "UNOBODY is not a user of this workspace (user_not_found)"],
      ["fail", "UGONE (Gone) is a deactivated account"],
      ["fail", "UROBOT (Robot) is a bot, not a person"],
    ]);
  });

  test("the two-person rule with one approver warns; an approval channel without the bot fails", async () => {
    const lone = await doctor(goodEnv({ CLAWDBOT_SELF_APPROVAL: "off" }));
    expect(lone.code).toBe(1);
    expect(only(lone.report, "approvers")).toMatchObject({ status: "warn", found: expect.stringContaining("can never be approved") });

    emu.addChannel("CAPPROVE", { kind: "public", botMember: false, name: "approvals" });
    const outside = await doctor(goodEnv({ CLAWDBOT_APPROVAL_CHANNEL: "CAPPROVE" }));
    expect(outside.code).toBe(2);
    expect(only(outside.report, "approvers")).toMatchObject({ status: "fail", found: expect.stringContaining("not a member of CLAWDBOT_APPROVAL_CHANNEL CAPPROVE") });

    emu.setBotMember("CAPPROVE", true);
    const inside = await doctor(goodEnv({ CLAWDBOT_APPROVAL_CHANNEL: "CAPPROVE" }));
    expect(only(inside.report, "approvers").status).toBe("pass");
  });

  test("Slack unreachable is a FAIL with the URL, not a crash", async () => {
    const url = `http://127.0.0.1:${freePort()}/api/`;
    const { report, code } = await doctor(goodEnv({ SLACK_API_URL: url }));
    expect(code).toBe(2);
    for (const name of ["auth.test", "apps.connections.open"]) {
      expect(only(report, name)).toMatchObject({ status: "fail", found: expect.stringContaining(`cannot reach ${url}`) });
    }
  });

  test("a Slack that does not answer is a FAIL within the check's limit", async () => {
    emu.fault("*", { latencyMs: 5000 });
    const started = Date.now();
    const { report } = await doctor(goodEnv({ CLAWDBOT_DOCTOR_TIMEOUT_MS: "300" }));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(only(report, "auth.test")).toMatchObject({ status: "fail", found: `no answer from ${emu.apiUrl}auth.test within 0.3 s` });
    expect(only(report, "apps.connections.open").status).toBe("fail");
  });
});

describe("doctor: store", () => {
  const dbPath = () => storeLocation({ dataDir: join(dir, "data") });

  test("an existing store passes read-only: not migrated, nothing written", async () => {
    await (await openStore(dbPath())).close();
    const raw = new Database(dbPath());
    raw.run("PRAGMA user_version = 2");
    raw.close();
    const { report } = await doctor(goodEnv());
    expect(only(report, "store")).toMatchObject({ status: "pass", found: expect.stringContaining("integrity check ok") });
    expect(only(report, "store.schema").found).toMatch(/^schema v2: the next run migrates it to v\d+$/);
    expect(only(report, "store.writable").status).toBe("pass");
    const after = new Database(dbPath(), { readonly: true });
    expect(after.query("PRAGMA user_version").get()).toEqual({ user_version: 2 });
    expect(after.query("SELECT count(*) AS n FROM settings").get()).toEqual({ n: 0 });
    after.close();
  });

  test("a corrupt store (garbage in clawdbot.db) fails with the fix", async () => {
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(dbPath(), "garbage, not SQLite ".repeat(500));
    const { report, code } = await doctor(goodEnv());
    expect(code).toBe(2);
    const store = only(report, "store");
    expect(store).toMatchObject({ status: "fail", found: expect.stringContaining("file is not a database") });
    expect(store.fix).toContain("backup");
  });

  test("a store of a newer schema fails naming both versions", async () => {
    await (await openStore(dbPath())).close();
    const raw = new Database(dbPath());
    const latest = (raw.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    raw.run("PRAGMA user_version = 99");
    raw.close();
    const { report, code } = await doctor(goodEnv());
    expect(code).toBe(2);
    expect(only(report, "store.schema")).toMatchObject({
      status: "fail",
      found: `schema v99 is newer than this clawdbot knows (v${latest}): a newer clawdbot wrote it`,
    });
  });

  test("free disk: WARN under 500 MB, FAIL under 50 MB", () => {
    const MB = 1024 * 1024;
    expect(judgeFreeSpace("/d", 2048 * MB).status).toBe("pass");
    expect(judgeFreeSpace("/d", 400 * MB)).toMatchObject({ status: "warn", found: "400 MB free in /d (under 500 MB)" });
    expect(judgeFreeSpace("/d", 10 * MB).status).toBe("fail");
  });
});

describe("doctor: health port, relay, agent", () => {
  test("a busy health port held by something else fails; a running bot passes", async () => {
    const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not me", { status: 404 }) });
    stops.push(() => other.stop(true));
    const busy = await doctor(goodEnv({ CLAWDBOT_HEALTH_PORT: String(other.port) }));
    expect(busy.code).toBe(2);
    expect(only(busy.report, "health-port")).toMatchObject({ status: "fail", found: expect.stringContaining("not clawdbot") });

    const bot = await startBot(emu, {}, join(dir, "bot"));
    stops.push(() => bot.stop());
    await waitFor(async () => (await bot.rt.snapshot()).status === "ok", "the bot is ok");
    const running = await doctor(goodEnv({ CLAWDBOT_HEALTH_PORT: String(bot.rt.healthPort) }));
    expect(only(running.report, "health-port")).toMatchObject({ status: "pass", found: expect.stringContaining("a bot is running") });
  });

  test("a port held by a program that does not speak HTTP fails", async () => {
    const raw = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { open: (s) => void s.end(), data() {} } });
    stops.push(() => raw.stop(true));
    const { report } = await doctor(goodEnv({ CLAWDBOT_HEALTH_PORT: String(raw.port) }));
    expect(only(report, "health-port")).toMatchObject({ status: "fail", found: expect.stringContaining("does not answer HTTP") });
  });

  test("a dead relay fails with its URL, the password redacted", async () => {
    const relay = startRelayStandIn();
    relay.setMode({ mode: "down" });
    const url = relay.url.replace("http://", "http://ops:hunter22@");
    const { report, code } = await doctor(goodEnv({ CLAWDBOT_RELAY_URL: url }));
    expect(code).toBe(2);
    expect(only(report, "relay")).toMatchObject({
      status: "fail",
      found: `POST ${relay.url.replace("http://", "http://ops:[redacted]@")}/context failed: connection refused`,
    });
  });

  test("a missing agent command fails naming it", async () => {
    const { report, code } = await doctor(goodEnv({ CLAWDBOT_AGENT_COMMAND: "no-such-agent-xyz --flag" }));
    expect(code).toBe(2);
    expect(only(report, "agent")).toMatchObject({
      status: "fail",
      found: expect.stringContaining("no-such-agent-xyz is not found (not on PATH, not a file)"),
    });
    expect(executableOf('"C:\\Program Files\\agent.exe" --x')).toBe("C:\\Program Files\\agent.exe");
  });

  test("an agent command that exits non-zero fails with its error", async () => {
    const { report } = await doctor(goodEnv({ CLAWDBOT_AGENT_COMMAND: "sh -c 'echo broken key >&2; exit 3'" }));
    expect(only(report, "agent")).toMatchObject({ status: "fail", found: "command agent: agent command exited with code 3: broken key" });
  });

  test("anthropic: a refused key (401) fails naming the problem, the key not printed; the right key passes", async () => {
    const api = startAnthropicStandIn({ apiKey: "sk-ant-right-key-0001" });
    stops.push(() => api.stop());
    const wrong = await doctor(goodEnv({ ANTHROPIC_API_KEY: "sk-ant-wrong-key-0002", ANTHROPIC_BASE_URL: api.baseURL, CLAWDBOT_AGENT: "anthropic" }));
    expect(wrong.code).toBe(2);
    expect(only(wrong.report, "agent")).toMatchObject({
      status: "fail",
      found: `anthropic agent: ${api.baseURL} refuses ANTHROPIC_API_KEY (401 authentication_error: invalid x-api-key)`,
    });
    expect(wrong.out).not.toContain("wrong-key");

    const right = await doctor(goodEnv({ ANTHROPIC_API_KEY: "sk-ant-right-key-0001", ANTHROPIC_BASE_URL: api.baseURL, CLAWDBOT_AGENT: "anthropic" }));
    expect(only(right.report, "agent")).toMatchObject({ status: "pass", found: expect.stringContaining("model claude-") });
    expect(right.code).toBe(0);
    // The Models API only: no message was sent (nothing spent).
    expect(api.requests.filter((r) => r.path === "/v1/messages")).toEqual([]);
  });
});
