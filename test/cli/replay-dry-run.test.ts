// `replay --dry-run` sends nothing, so it needs no Slack tokens; without a store, replay
// (dry or not) says what state dump says, and exits 2.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { join } from "node:path";
import { queueReply } from "../../src/core/replies.ts";
import { openStore, storeLocation } from "../../src/store/index.ts";
import { cleanup, ensureBinary, tempDir } from "../helpers/bot.ts";

let dir: string;
beforeEach(() => {
  dir = tempDir("clawdbot-replay-");
});
afterEach(() => cleanup(dir));

async function run(args: string[], env: Record<string, string>) {
  const p = Bun.spawnSync([await ensureBinary(), ...args], { env: { PATH: process.env.PATH ?? "", ...env } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

test("--dry-run with no Slack tokens lists what it would deliver and writes nothing", async () => {
  const path = storeLocation({ dataDir: dir });
  const s = await openStore(path);
  await s.tx((t) => queueReply(t, { channel: "C1", text: "never sent" }, Date.now()));
  await s.close();
  const before = await Bun.file(path).bytes();
  const r = await run(["replay", "--dry-run", "--json"], { CLAWDBOT_DATA_DIR: dir });
  expect(r.err).toBe("");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out)).toMatchObject({ dry_run: true, items: [{ type: "outbox", text: "never sent", channel: "C1" }], delivered: 0 });
  expect(await Bun.file(path).bytes()).toEqual(before);
});

test("--dry-run reads the data dir from --env-file; a bad --env-file is a configuration error", async () => {
  const envFile = join(dir, "bot.env");
  await Bun.write(envFile, `CLAWDBOT_DATA_DIR=${dir}\n`);
  await (await openStore(storeLocation({ dataDir: dir }))).close();
  const ok = await run(["replay", "--dry-run", "--env-file", envFile], {});
  expect(ok).toMatchObject({ code: 0, out: "nothing to deliver\n" });
  const bad = await run(["replay", "--dry-run", "--env-file", dir], {});
  expect(bad.code).toBe(2);
  expect(bad.err).toBe(`clawdbot: configuration error: --env-file: ${dir} is a directory; pass the path of a KEY=VALUE file\n`);
});

test("no store: replay and replay --dry-run say what state dump says, exit 2", async () => {
  const env = { CLAWDBOT_DATA_DIR: join(dir, "none"), SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1" };
  const dump = await run(["state", "dump"], env);
  expect(dump.code).toBe(2);
  expect(dump.err).toStartWith(`no store at ${join(dir, "none", "clawdbot.db")}: file does not exist`);
  for (const args of [["replay", "--dry-run"], ["replay"]]) {
    const r = await run(args, env);
    expect({ args, code: r.code, err: r.err, out: r.out }).toEqual({ args, code: 2, err: dump.err, out: "" });
  }
});
