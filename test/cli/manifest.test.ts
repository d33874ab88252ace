import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import manifestCmd from "../../src/cli/manifest.ts";
import { APP_TOKEN_SCOPES, BOT_EVENTS, BOT_SCOPES, SLASH_COMMAND } from "../../src/slack/app-requirements.ts";
import { buildManifest, ManifestError, MAX_APP_NAME, type SlackManifest } from "../../src/slack/manifest.ts";
import { ensureBinary, ROOT } from "../helpers/bot.ts";
import { runCli } from "../helpers/cli.ts";

const run = (...args: string[]) => runCli(manifestCmd, ...args);

describe("the manifest is made from app-requirements", () => {
  test("every bot scope, every bot event and /claw, nothing else; Socket Mode and interactivity on", () => {
    const m = buildManifest();
    expect(m.oauth_config.scopes.bot).toEqual(BOT_SCOPES.map((s) => s.name));
    expect(m.settings.event_subscriptions.bot_events).toEqual(BOT_EVENTS.map((e) => e.name));
    expect(m.features.slash_commands).toEqual([
      { command: SLASH_COMMAND.command, description: SLASH_COMMAND.description, usage_hint: SLASH_COMMAND.usageHint, should_escape: false },
    ]);
    expect(m.settings.socket_mode_enabled).toBe(true);
    expect(m.settings.interactivity).toEqual({ is_enabled: true });
    expect(m.settings.event_subscriptions.request_url).toBeUndefined();
    expect(m.features.bot_user).toEqual({ display_name: "clawdbot", always_online: true });
    // DMs need the Messages tab, writable.
    expect(m.features.app_home.messages_tab_enabled).toBe(true);
    expect(m.features.app_home.messages_tab_read_only_enabled).toBe(false);
  });

  test("within the manifest schema's limits (slackapi/manifest-schema 1.0.0)", () => {
    const m = buildManifest();
    expect(Object.keys(m).sort()).toEqual(["_metadata", "display_information", "features", "oauth_config", "settings"]);
    expect(m.display_information.name.length).toBeLessThanOrEqual(35);
    expect(m.display_information.description.length).toBeGreaterThan(0);
    expect(m.display_information.description.length).toBeLessThanOrEqual(140);
    const cmd = m.features.slash_commands[0] as SlackManifest["features"]["slash_commands"][number];
    expect(cmd.command).toMatch(/^\/.{1,31}$/);
    expect(cmd.description.length).toBeLessThanOrEqual(2000);
    expect(cmd.usage_hint.length).toBeLessThanOrEqual(1000);
    for (const s of m.oauth_config.scopes.bot) expect(s.length).toBeLessThanOrEqual(50);
    expect(new Set(m.settings.event_subscriptions.bot_events).size).toBe(BOT_EVENTS.length);
  });

  test("http mode: request URLs for events, /claw and interactivity; Socket Mode off", () => {
    const url = "https://bot.example.com/slack/events";
    const m = buildManifest({ httpUrl: url });
    expect(m.settings.socket_mode_enabled).toBe(false);
    expect(m.settings.event_subscriptions.request_url).toBe(url);
    expect(m.settings.interactivity).toEqual({ is_enabled: true, request_url: url });
    expect(m.features.slash_commands[0]?.url).toBe(url);
  });

  test("--name names the app and the bot user; a name Slack would refuse is an error", () => {
    const m = buildManifest({ name: "Ops Claw" });
    expect(m.display_information.name).toBe("Ops Claw");
    expect(m.features.bot_user.display_name).toBe("Ops Claw");
    expect(() => buildManifest({ name: "x".repeat(MAX_APP_NAME + 1) })).toThrow(ManifestError);
    expect(() => buildManifest({ name: "  " })).toThrow(ManifestError);
    expect(() => buildManifest({ httpUrl: "http://bot.example.com/slack/events" })).toThrow("requires https://");
    expect(() => buildManifest({ httpUrl: "bot.example.com" })).toThrow("is not a URL");
  });
});

describe("clawdbot manifest (in-process)", () => {
  test("JSON by default, and --yaml says the same", async () => {
    const json = await run();
    expect(json.code).toBe(0);
    const fromJson = JSON.parse(json.out);
    expect(fromJson).toEqual(buildManifest());
    const yaml = await run("--yaml");
    expect(yaml.code).toBe(0);
    expect(yaml.out).not.toContain("{");
    expect(Bun.YAML.parse(yaml.out)).toEqual(fromJson);
  });

  test("the http variant and a custom name survive YAML too", async () => {
    const { out } = await run("--yaml", "--name", "Claw: ops #1", "--http-url", "https://h.example/slack/events?x=1");
    expect(Bun.YAML.parse(out)).toEqual(buildManifest({ name: "Claw: ops #1", httpUrl: "https://h.example/slack/events?x=1" }));
  });

  test("bad arguments: exit 2 with one line", async () => {
    expect(await run("--json", "--yaml")).toMatchObject({ code: 2, message: "clawdbot manifest: pass --json or --yaml, not both" });
    const r = await run("--http-url", "http://plain.example/slack/events");
    expect(r.code).toBe(2);
    expect(r.message).toStartWith("clawdbot manifest: --http-url");
    expect(r.message).not.toContain("\n");
  });
});

test("the compiled binary prints the manifest: plain JSON on a pipe, exit 0", async () => {
  const bin = await ensureBinary();
  const p = Bun.spawnSync([bin, "manifest"], { env: { PATH: process.env.PATH ?? "" } });
  expect(p.exitCode).toBe(0);
  expect(JSON.parse(p.stdout.toString())).toEqual(buildManifest());
  expect(p.stderr.toString()).toBe("");
});

// The README's scope table is this list written out: a change to app-requirements.ts that
// does not reach the README fails here, with the table to paste.
test("README's tables list exactly the scopes and events of app-requirements", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = /<!-- app-requirements:start -->\n([\s\S]*?)<!-- app-requirements:end -->/.exec(readme)?.[1];
  const expected = [
    "| bot scope | why |",
    "|---|---|",
    ...BOT_SCOPES.map((s) => `| \`${s.name}\` | ${s.why} |`),
    "",
    "| bot event | why |",
    "|---|---|",
    ...BOT_EVENTS.map((e) => `| \`${e.name}\` | ${e.why} |`),
    "",
    `App-level token (Socket Mode): ${APP_TOKEN_SCOPES.map((s) => `\`${s.name}\` (${s.why})`).join(", ")}.`,
    "",
  ].join("\n");
  expect(section).toBe(expected);
});
