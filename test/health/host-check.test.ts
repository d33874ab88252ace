// DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 makes the
// browser send `Host: evil.example`. A health server bound to loopback answers only
// loopback names, so the page cannot read /health or /metrics.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { createHealthApp } from "../../src/health/app.ts";
import { cleanup, type InProcessBot, startBot, startEmulator } from "../helpers/bot.ts";
import { snapshot } from "./snapshot.ts";

let emu: SlackEmulator;
let bot: InProcessBot;
let base: string;

beforeAll(async () => {
  emu = await startEmulator();
  bot = await startBot(emu);
  base = `http://127.0.0.1:${bot.rt.healthPort}`;
});

afterAll(async () => {
  await bot?.stop();
  await emu?.stop();
  cleanup(bot.dataDir);
});

const status = async (path: string, host: string) => (await fetch(base + path, { headers: { host } })).status;

test("loopback names, with or without a port, are answered", async () => {
  const port = bot.rt.healthPort;
  for (const host of ["127.0.0.1", `127.0.0.1:${port}`, "127.0.0.2", "localhost", `LOCALHOST:${port}`, "[::1]", `[::1]:${port}`]) {
    expect({ host, status: await status("/metrics", host) }).toEqual({ host, status: 200 });
  }
});

test("any other Host gets 421 and no health data, on every path", async () => {
  for (const host of ["evil.example", `evil.example:${bot.rt.healthPort}`, "127.0.0.1.evil.example", "localhost.evil.example", "10.0.0.5"]) {
    for (const path of ["/health", "/metrics", "/nope"]) {
      const res = await fetch(base + path, { headers: { host } });
      const body = await res.text();
      expect({ host, path, status: res.status }).toEqual({ host, path, status: 421 });
      expect(body).not.toContain("uptime");
    }
  }
});

test("a health server bound to all interfaces (no loopback check) answers any Host", async () => {
  const res = await createHealthApp({ snapshot: () => snapshot() }).handle(new Request("http://monitor.example:8093/health"));
  expect(res.status).toBe(200);
});
