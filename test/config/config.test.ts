import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { checkConfig, ConfigError, defaultDataDir, gatherEnv, loadConfig, parseEnvFile } from "../../src/config.ts";
import { spawnBot, tempDir } from "../helpers/bot.ts";

const base = { SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1", CLAWDBOT_DATA_DIR: "/tmp/x" };

describe("loadConfig", () => {
  test("defaults match the contract", () => {
    const c = loadConfig(base);
    expect(c.mode).toBe("socket");
    expect(c.healthHost).toBe("127.0.0.1");
    expect(c.healthPort).toBe(8093);
    expect(c.reconnectInitialMs).toBe(5000);
    expect(c.reconnectMaxMs).toBe(300_000);
    expect(c.livenessTimeoutMs).toBe(30_000);
    expect(c.staleAfterMs).toBe(600_000);
    expect(c.canaryTimeoutMs).toBe(30_000);
    expect(c.heartbeatIntervalMs).toBe(900_000);
    expect(c.approvalTtlMs).toBe(86_400_000);
    expect(c.agent).toBe("echo");
    expect(c.execTimeoutMs).toBe(300_000);
    expect(c.execCwd).toBe("/tmp/x");
    expect(c.logRetentionBytes).toBe(20 * 1024 * 1024);
    expect(c.slackApiUrl).toBe("https://slack.com/api/");
    expect(c.selfApproval).toBe(true);
  });

  test("CLAWDBOT_SELF_APPROVAL is on or off", () => {
    expect(loadConfig({ ...base, CLAWDBOT_SELF_APPROVAL: "off" }).selfApproval).toBe(false);
    expect(loadConfig({ ...base, CLAWDBOT_SELF_APPROVAL: "on" }).selfApproval).toBe(true);
  });

  test("agent choice follows the contract", () => {
    expect(loadConfig({ ...base, ANTHROPIC_API_KEY: "sk-ant-x" }).agent).toBe("anthropic");
    expect(loadConfig({ ...base, CLAWDBOT_AGENT_COMMAND: "x" }).agent).toBe("command");
  });

  test("the approval channel is a channel ID; unset by default", () => {
    expect(loadConfig(base).approvalChannel).toBeUndefined();
    expect(loadConfig({ ...base, CLAWDBOT_APPROVAL_CHANNEL: "C0OPS123" }).approvalChannel).toBe("C0OPS123");
  });

  test("admins default to approvers; RELAY_URL is an alias", () => {
    const c = loadConfig({ ...base, CLAWDBOT_APPROVERS: "U1, U2", RELAY_URL: "http://127.0.0.1:1" });
    expect(c.admins).toEqual(["U1", "U2"]);
    expect(c.relayUrl).toBe("http://127.0.0.1:1");
  });

  const bad: [Record<string, string | undefined>, string][] = [
    [{ ...base, SLACK_BOT_TOKEN: undefined }, "SLACK_BOT_TOKEN"],
    [{ ...base, SLACK_APP_TOKEN: undefined }, "SLACK_APP_TOKEN"],
    [{ ...base, CLAWDBOT_MODE: "http" }, "SLACK_SIGNING_SECRET"],
    [{ ...base, SLACK_BOT_TOKEN: "xapp-1" }, "SLACK_BOT_TOKEN"],
    [{ ...base, CLAWDBOT_HEALTH_PORT: "99999" }, "CLAWDBOT_HEALTH_PORT"],
    [{ ...base, CLAWDBOT_RECONNECT_INITIAL: "soon" }, "CLAWDBOT_RECONNECT_INITIAL"],
    [{ ...base, CLAWDBOT_APPROVERS: "bob" }, "CLAWDBOT_APPROVERS"],
    [{ ...base, CLAWDBOT_AGENT: "anthropic" }, "ANTHROPIC_API_KEY"],
    [{ ...base, CLAWDBOT_MODE: "carrier-pigeon" }, "CLAWDBOT_MODE"],
    [{ ...base, SLACK_API_URL: "ftp://x" }, "SLACK_API_URL"],
    [{ ...base, CLAWDBOT_APPROVAL_CHANNEL: "#ops" }, "CLAWDBOT_APPROVAL_CHANNEL"],
    [{ ...base, CLAWDBOT_SELF_APPROVAL: "no" }, "CLAWDBOT_SELF_APPROVAL"],
  ];
  for (const [env, setting] of bad) {
    test(`bad ${setting} names the setting`, () => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      try {
        loadConfig(env);
      } catch (err) {
        expect((err as ConfigError).setting).toBe(setting);
        expect((err as Error).message.startsWith(setting)).toBe(true);
      }
    });
  }

  test("checkConfig finds every bad setting at once; loadConfig throws the first of them", () => {
    const env = {
      ...base,
      SLACK_BOT_TOKEN: "xapp-swapped",
      CLAWDBOT_HEALTH_PORT: "99999",
      CLAWDBOT_STALE_AFTER: "soon",
      CLAWDBOT_APPROVERS: "bob",
      CLAWDBOT_AGENT: "parrot",
      CLAWDBOT_LOG_RETENTION_MB: "-1",
    };
    const { config, problems } = checkConfig(env);
    expect(problems.map((p) => p.setting)).toEqual([
      "SLACK_BOT_TOKEN",
      "CLAWDBOT_APPROVERS",
      "CLAWDBOT_AGENT",
      "CLAWDBOT_LOG_RETENTION_MB",
      "CLAWDBOT_HEALTH_PORT",
      "CLAWDBOT_STALE_AFTER",
    ]);
    // The defaults stand in for the bad values, so the rest of the configuration is usable.
    expect(config.healthPort).toBe(8093);
    expect(config.staleAfterMs).toBe(600_000);
    expect(config.agent).toBe("echo");
    expect(config.logRetentionBytes).toBe(20 * 1024 * 1024);
    expect(config.slackAppToken).toBe("xapp-1");
    expect(() => loadConfig(env)).toThrow(problems[0]?.message);
    expect(checkConfig(base).problems).toEqual([]);
  });

  test("an empty environment variable does not blank out the env file's value", () => {
    const dir = tempDir();
    const file = `${dir}/my.env`;
    writeFileSync(file, "SLACK_BOT_TOKEN=xoxb-from-file\n");
    expect(gatherEnv({ SLACK_BOT_TOKEN: "" }, file, dir).SLACK_BOT_TOKEN).toBe("xoxb-from-file");
    expect(gatherEnv({ SLACK_BOT_TOKEN: "xoxb-from-env" }, file, dir).SLACK_BOT_TOKEN).toBe("xoxb-from-env");
  });

  test("env files: comments, quotes, export", () => {
    expect(parseEnvFile("# c\nexport A=1\nB='two words'\nC=\"x\" \nD=3 # note\n")).toEqual({ A: "1", B: "two words", C: "x", D: "3" });
  });

  test("data dir defaults per platform", () => {
    expect(defaultDataDir({ LOCALAPPDATA: "C:\\Users\\o\\AppData\\Local" }, "win32")).toContain("clawdbot");
    expect(defaultDataDir({ XDG_STATE_HOME: "/s" }, "linux")).toBe("/s/clawdbot");
    expect(defaultDataDir({ HOME: "/h" }, "linux")).toBe("/h/.local/state/clawdbot");
  });
});

describe("clawdbot run with a bad configuration (compiled)", () => {
  const full = { SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1", CLAWDBOT_DATA_DIR: tempDir(), CLAWDBOT_HEALTH_PORT: "0" };
  for (const missing of ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"] as const) {
    test(`missing ${missing} → exit 2 and one line naming it`, async () => {
      const env: Record<string, string> = { ...full };
      delete env[missing];
      const bot = await spawnBot(["run"], env);
      expect(await bot.exited).toBe(2);
      const lines = bot.output().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(missing);
    });
  }
  test("http mode without SLACK_SIGNING_SECRET → exit 2", async () => {
    const bot = await spawnBot(["run", "--mode", "http"], full);
    expect(await bot.exited).toBe(2);
    expect(bot.output()).toContain("SLACK_SIGNING_SECRET");
  });
  test("--env-file supplies settings; a missing file is named", async () => {
    const bot = await spawnBot(["run", "--env-file", "/nonexistent/clawdbot.env"], full);
    expect(await bot.exited).toBe(2);
    expect(bot.output()).toContain("--env-file");
  });
  test("--env-file naming a directory: exit 2, one line naming it and what is wrong", async () => {
    const dir = tempDir();
    const bot = await spawnBot(["run", "--env-file", dir], full);
    expect(await bot.exited).toBe(2);
    const lines = bot.output().trim().split("\n");
    expect(lines).toEqual([`clawdbot: configuration error: --env-file: ${dir} is a directory; pass the path of a KEY=VALUE file`]);
  });
  test("--env-file that cannot be read: exit 2, one line naming it", async () => {
    // A path through a plain file fails to open even for root (ENOTDIR), as EACCES does for others.
    const file = `${tempDir()}/plain`;
    writeFileSync(file, "");
    const bot = await spawnBot(["run", "--env-file", `${file}/clawdbot.env`], full);
    expect(await bot.exited).toBe(2);
    const lines = bot.output().trim().split("\n");
    expect(lines).toEqual([`clawdbot: configuration error: --env-file: cannot read ${file}/clawdbot.env (ENOTDIR); check its permissions`]);
  });
});

describe("config audit fixes", () => {
  test("an env file saved with a UTF-8 BOM or as UTF-16 (Windows) keeps its first setting", async () => {
    const { decodeEnvFile, gatherEnv } = await import("../../src/config.ts");
    const text = "SLACK_BOT_TOKEN=xoxb-bom\r\nCLAWDBOT_DATA_DIR=C:\\Users\\me\\clawdbot\r\n";
    const utf8bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
    const utf16 = new Uint8Array(2 + text.length * 2);
    utf16.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) utf16[2 + i * 2] = text.charCodeAt(i);
    for (const bytes of [utf8bom, utf16]) {
      const env = parseEnvFile(decodeEnvFile(bytes));
      expect(env.SLACK_BOT_TOKEN).toBe("xoxb-bom");
      expect(env.CLAWDBOT_DATA_DIR).toBe("C:\\Users\\me\\clawdbot");
    }
    const dir = tempDir();
    await Bun.write(`${dir}/clawdbot.env`, utf16);
    expect(gatherEnv({}, undefined, dir).SLACK_BOT_TOKEN).toBe("xoxb-bom");
  });

  test("Windows paths pass through untouched", () => {
    const c = loadConfig({ ...base, CLAWDBOT_DATA_DIR: "D:\\bots\\claw", CLAWDBOT_EXEC_CWD: "C:\\work dir" }, {}, "win32");
    expect(c.dataDir).toBe("D:\\bots\\claw");
    expect(c.execCwd).toBe("C:\\work dir");
  });

  test("a reconnect delay of 0 is refused (it would hammer Slack)", () => {
    for (const name of ["CLAWDBOT_RECONNECT_INITIAL", "CLAWDBOT_RECONNECT_MAX"]) {
      expect(() => loadConfig({ ...base, [name]: "0" })).toThrow(name);
    }
  });

  test("a bad URL's password is not echoed; relay and base URL passwords are redacted secrets", async () => {
    const { secretsOf } = await import("../../src/config.ts");
    let msg = "";
    try {
      loadConfig({ ...base, CLAWDBOT_RELAY_URL: "ftp://bot:hunter22@relay" });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toContain("CLAWDBOT_RELAY_URL");
    expect(msg).not.toContain("hunter22");
    const c = loadConfig({ ...base, CLAWDBOT_RELAY_URL: "https://bot:hunter%2322@relay", ANTHROPIC_BASE_URL: "http://k:basepass1@proxy" });
    expect(secretsOf(c)).toEqual(expect.arrayContaining(["hunter%2322", "hunter#22", "basepass1"]));
  });

  test("the cluster settings: database URL, instance id and timeout, with their defaults", async () => {
    const { hostname } = await import("node:os");
    const d = loadConfig(base);
    expect(d.databaseUrl).toBeUndefined();
    expect(d.instanceId).toBe(`${hostname()}:${process.pid}`);
    expect(d.instanceTimeoutMs).toBe(30_000);
    expect(d.tuning.presenceIntervalMs).toBe(5000);
    const c = loadConfig({
      ...base,
      CLAWDBOT_DATABASE_URL: "postgresql://bot:pw-123456@db.example.com:6543/claw?sslmode=verify-full",
      CLAWDBOT_INSTANCE_ID: "bot-1",
      CLAWDBOT_INSTANCE_TIMEOUT: "2",
    });
    expect(c.databaseUrl).toBe("postgresql://bot:pw-123456@db.example.com:6543/claw?sslmode=verify-full");
    expect(c.instanceId).toBe("bot-1");
    expect(c.instanceTimeoutMs).toBe(2000);
    expect(c.tuning.presenceIntervalMs).toBe(666);
  });

  test("a bad database URL is one line naming the setting, never the password; the password is a secret", async () => {
    const { secretsOf } = await import("../../src/config.ts");
    for (const [v, why] of [
      ["mysql://bot:hunter2222@db/claw", "postgres:// or postgresql://"],
      ["postgres://bot:hunter2222@db/claw?sslmode=always", "sslmode"],
      ["not a url hunter2222", "not a URL"],
      ["postgres:///claw?password=hunter2222", "no host"],
    ]) {
      let msg = "";
      try {
        loadConfig({ ...base, CLAWDBOT_DATABASE_URL: v });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        msg = (err as Error).message;
      }
      expect(msg).toContain("CLAWDBOT_DATABASE_URL");
      expect(msg).toContain(why as string);
      expect(msg).not.toContain("hunter2222");
      expect(msg.split("\n")).toHaveLength(1);
    }
    const c = loadConfig({ ...base, CLAWDBOT_DATABASE_URL: "postgres://bot:p%40ss:word9@db/claw" });
    expect(secretsOf(c)).toEqual(expect.arrayContaining(["p%40ss:word9", "p@ss:word9"]));
  });

  test("instance id and timeout are validated", () => {
    expect(() => loadConfig({ ...base, CLAWDBOT_INSTANCE_ID: "bot one" })).toThrow("CLAWDBOT_INSTANCE_ID");
    expect(() => loadConfig({ ...base, CLAWDBOT_INSTANCE_TIMEOUT: "0" })).toThrow("CLAWDBOT_INSTANCE_TIMEOUT");
    expect(() => loadConfig({ ...base, CLAWDBOT_INSTANCE_TIMEOUT: "2", CLAWDBOT_PRESENCE_MS: "1500" })).toThrow("CLAWDBOT_PRESENCE_MS");
  });

  test("a health host other than loopback is allowed, with a warning", async () => {
    const { configWarnings } = await import("../../src/config.ts");
    expect(configWarnings(loadConfig(base))).toEqual([]);
    expect(configWarnings(loadConfig({ ...base, CLAWDBOT_HEALTH_HOST: "localhost" }))).toEqual([]);
    const w = configWarnings(loadConfig({ ...base, CLAWDBOT_HEALTH_HOST: "0.0.0.0" }));
    expect(w).toHaveLength(1);
    expect(w[0]).toContain("CLAWDBOT_HEALTH_HOST");
  });
});

test("a clawdbot.env beside the executable that is a directory is named", () => {
  const dir = tempDir();
  mkdirSync(`${dir}/clawdbot.env`);
  expect(() => gatherEnv({}, undefined, dir)).toThrow(`clawdbot.env: ${dir}/clawdbot.env is a directory`);
});
