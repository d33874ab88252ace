// Bun exits on an unhandled rejection: the running bot logs a stray one and keeps going.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../helpers/bot.ts";

test("a stray rejection is logged and the bot keeps answering", async () => {
  const child = Bun.spawn([process.execPath, join(ROOT, "test", "stand-ins", "stray-rejection.ts")], {
    cwd: ROOT,
    env: { ...process.env, CLAWDBOT_CONSOLE_LEVEL: "0" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = await new Response(child.stdout).text();
  const code = await child.exited;
  expect(out).toContain("ALIVE logged=1");
  expect(code).toBe(0);
}, 30_000);
