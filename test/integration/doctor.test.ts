// `clawdbot doctor` as the compiled executable: one line per check, the exit code of the worst.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DoctorReport } from "../../src/doctor/index.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, spawnBot, startEmulator, tempDir } from "../helpers/bot.ts";

let emu: SlackEmulator;
let dir: string;
let envFile: string;

beforeAll(async () => {
  emu = await startEmulator();
  emu.addUser("UALICE", { realName: "Alice" });
  dir = tempDir("clawdbot-doctor-bin-");
  envFile = join(dir, "clawdbot.env");
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const healthPort = l.port;
  l.stop(true);
  // The echo agent is a warning; a missing scope a failure.
  writeFileSync(
    envFile,
    [
      `SLACK_BOT_TOKEN=${emu.options.botToken}`,
      `SLACK_APP_TOKEN=${emu.options.appToken}`,
      `SLACK_API_URL=${emu.apiUrl}`,
      `CLAWDBOT_DATA_DIR=${join(dir, "data")}`,
      `CLAWDBOT_HEALTH_PORT=${healthPort}`,
      "CLAWDBOT_APPROVERS=UALICE",
    ].join("\n"),
  );
});
afterAll(async () => {
  await emu.stop();
  cleanup(dir);
});

const LINE = /^(PASS|WARN|FAIL) {2}\S+ +\S/;

test("the executable prints one line per check and exits 1 on warnings only", async () => {
  const bot = await spawnBot(["doctor", "--env-file", envFile], {});
  expect(await bot.exited).toBe(1);
  const lines = bot.output().trim().split("\n");
  const summary = lines.pop();
  expect(summary).toBe(`doctor: ${lines.length - 1} passed, 1 warnings, 0 failed`);
  for (const line of lines) expect(line).toMatch(LINE);
  expect(lines.map((l) => l.split(/ +/)[1])).toEqual([
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
  ]);
  expect(lines.find((l) => l.startsWith("WARN"))).toMatch(/^WARN {2}agent +echo agent: /);
  expect(bot.output()).not.toContain(emu.options.botToken);
});

test("--json is one document; a failure exits 2", async () => {
  emu.revokeScopes("commands");
  try {
    const bot = await spawnBot(["doctor", "--env-file", envFile, "--json"], {});
    expect(await bot.exited).toBe(2);
    const report = JSON.parse(bot.output()) as DoctorReport;
    expect(report.worst).toBe("fail");
    expect(report.checks.filter((c) => c.status === "fail")).toEqual([
      expect.objectContaining({ name: "scopes", found: expect.stringContaining("commands not granted (the /claw slash command)") }),
    ]);
  } finally {
    emu.setScopes([...emu.options.scopes]);
  }
});
