import { afterAll, afterEach, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { runCommand } from "citty";
import healthCmd, { defaultHealthUrl, probeHealth } from "../../src/cli/health.ts";
import { CliExit } from "../../src/cli/exit.ts";
import { snapshot } from "./snapshot.ts";

// A stand-in health server whose answer each test sets.
let answer: () => Response | Promise<Response> = () => Response.json(snapshot());
let server: ReturnType<typeof Bun.serve>;
let url: string;
beforeAll(() => {
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => answer() });
  url = `http://127.0.0.1:${server.port}/health`;
});
afterAll(() => server.stop(true));

/** Runs `clawdbot health ...args` in-process: the printed lines and the exit code. */
async function run(...rawArgs: string[]): Promise<{ out: string[]; code: number }> {
  const out: string[] = [];
  const log = spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  let code = 0;
  try {
    await runCommand(healthCmd, { rawArgs });
  } catch (err) {
    if (!(err instanceof CliExit)) throw err;
    code = err.exitCode;
  } finally {
    log.mockRestore();
  }
  return { out, code };
}

const health503 = (over: Parameters<typeof snapshot>[0]) => () => Response.json(snapshot(over), { status: 503 });

describe("clawdbot health", () => {
  afterEach(() => {
    answer = () => Response.json(snapshot());
  });

  test("ok: OK line, exit 0", async () => {
    const { out, code } = await run("--url", url);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(out[0]).toStartWith("OK status=ok uptime=120s last_event=4s ago");
    expect(out[0]).toContain("reconnects=2");
    expect(out[0]).toContain("outbox_pending=3");
  });

  test("paused is still OK", async () => {
    answer = () => Response.json(snapshot({ paused: true }));
    const { out, code } = await run("--url", url);
    expect(code).toBe(0);
    expect(out[0]).toContain("paused=true");
  });

  for (const status of ["starting", "disconnected", "stale", "store_unavailable"] as const) {
    test(`${status} (503 with JSON): WARN line, exit 1`, async () => {
      answer = health503({ status, reason: "nothing from Slack\nfor 700 s", last_event_ago_s: null });
      const { out, code } = await run("--url", url);
      expect(code).toBe(1);
      expect(out).toHaveLength(1);
      expect(out[0]).toStartWith(`WARN: ${status} (nothing from Slack for 700 s)`);
      expect(out[0]).toContain("last_event=never");
    });
  }

  test("revoked: CRIT line, exit 2", async () => {
    answer = health503({ status: "revoked", reason: "token_revoked", connected: false });
    const { out, code } = await run("--url", url);
    expect(code).toBe(2);
    expect(out[0]).toStartWith("CRIT: revoked (token_revoked)");
  });

  test("non-JSON: CRIT not a health answer, exit 2", async () => {
    answer = () => new Response("<html>hello</html>", { headers: { "content-type": "text/html" } });
    const { out, code } = await run("--url", url);
    expect(code).toBe(2);
    expect(out[0]).toStartWith("CRIT: not a health answer");
    expect(out[0]).toContain("HTTP 200");
  });

  test("JSON without a health status, or a 404: not a health answer", async () => {
    answer = () => Response.json({ status: "fine" });
    expect((await run("--url", url)).out[0]).toStartWith("CRIT: not a health answer");
    answer = () => Response.json(snapshot(), { status: 404 });
    const r = await run("--url", url);
    expect(r.code).toBe(2);
    expect(r.out[0]).toStartWith("CRIT: not a health answer");
  });

  test("unreachable port: CRIT unreachable naming the URL, exit 2", async () => {
    const tmp = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const dead = `http://127.0.0.1:${tmp.port}/health`;
    await tmp.stop(true);
    const { out, code } = await run("--url", dead);
    expect(code).toBe(2);
    expect(out[0]).toStartWith(`CRIT: unreachable: ${dead} (`);
  });

  test("--json prints the answer itself", async () => {
    answer = health503({ status: "stale" });
    const { out, code } = await run("--url", url, "--json");
    expect(code).toBe(1);
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0] as string)).toEqual(snapshot({ status: "stale" }));
  });

  test("--json when unreachable", async () => {
    const tmp = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const dead = `http://127.0.0.1:${tmp.port}/health`;
    await tmp.stop(true);
    const { out, code } = await run("--url", dead, "--json");
    expect(code).toBe(2);
    expect(JSON.parse(out[0] as string)).toMatchObject({ status: "unreachable", url: dead });
  });

  test("default URL comes from CLAWDBOT_HEALTH_PORT", async () => {
    const saved = process.env.CLAWDBOT_HEALTH_PORT;
    process.env.CLAWDBOT_HEALTH_PORT = String(server.port);
    try {
      const { out, code } = await run();
      expect(code).toBe(0);
      expect(out[0]).toStartWith("OK ");
    } finally {
      if (saved === undefined) delete process.env.CLAWDBOT_HEALTH_PORT;
      else process.env.CLAWDBOT_HEALTH_PORT = saved;
    }
  });
});

describe("probeHealth", () => {
  test("a server that never answers: timeout, exit 2", async () => {
    answer = () => Bun.sleep(2000).then(() => Response.json(snapshot()));
    try {
      const t0 = Date.now();
      const r = await probeHealth(url, 200);
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(r.exitCode).toBe(2);
      expect(r.line).toStartWith("CRIT: timeout after 0.2 s");
      expect(r.json).toMatchObject({ status: "timeout" });
    } finally {
      answer = () => Response.json(snapshot());
    }
  });

  test("an invalid URL is CRIT, not a crash", async () => {
    const r = await probeHealth("not a url");
    expect(r.exitCode).toBe(2);
    expect(r.line).toStartWith("CRIT: unreachable: not a url");
  });
});

describe("defaultHealthUrl", () => {
  test("defaults, wildcard hosts, IPv6, bad port", () => {
    expect(defaultHealthUrl({})).toEqual({ url: "http://127.0.0.1:8093/health" });
    expect(defaultHealthUrl({ CLAWDBOT_HEALTH_PORT: "9000", CLAWDBOT_HEALTH_HOST: "0.0.0.0" })).toEqual({
      url: "http://127.0.0.1:9000/health",
    });
    expect(defaultHealthUrl({ CLAWDBOT_HEALTH_HOST: "::1" })).toEqual({ url: "http://[::1]:8093/health" });
    const bad = defaultHealthUrl({ CLAWDBOT_HEALTH_PORT: "abc" });
    expect("error" in bad && bad.error).toContain("CLAWDBOT_HEALTH_PORT");
  });
});

test("the health command imports nothing heavy", async () => {
  // A fresh process: what does loading src/cli/health.ts pull in?
  const script = `await import(${JSON.stringify(new URL("../../src/cli/health.ts", import.meta.url).pathname)});
const heavy = Object.keys(require.cache).filter((k) => /elysia|@slack|@anthropic|bun:sqlite|src\\/store/.test(k));
console.log(JSON.stringify(heavy));`;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  expect(JSON.parse(out.trim())).toEqual([]);
});
