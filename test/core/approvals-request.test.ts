// Job requests that can never run as shown are refused before a card exists.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { EchoAgent } from "../../src/agents/echo.ts";
import { Approvals } from "../../src/core/approvals.ts";
import { routeHere } from "../../src/core/card-routes.ts";
import { systemClock } from "../../src/core/clock.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { localJobs } from "../../src/jobs/local.ts";
import { openStore } from "../../src/store/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

async function approvals(platform: NodeJS.Platform) {
  const store = await openStore(join(dir, `${platform}.db`));
  const a = new Approvals({
    store,
    clock: systemClock,
    log: memoryLogger(),
    approvers: ["UAPP"],
    approvalTtlMs: 60_000,
    codeCommandSet: false,
    agent: new EchoAgent(),
    agentTimeoutMs: 1000,
    jobs: localJobs({ cwd: dir, timeoutMs: 1000, platform }),
    recordUsage: async () => {},
    kick: () => {},
    owner: "test:1",
  });
  return { a, store };
}

test("a multi-line exec on Windows is refused with the reason; no card", async () => {
  const { a, store } = await approvals("win32");
  const id = await store.tx((t) => a.request(t, { kind: "exec", text: "echo one\necho two" }, { requestedBy: "U1", route: routeHere({ channel: "C1" }) }));
  expect(id).toBeNull();
  expect(await store.approvals.list()).toHaveLength(0);
  expect((await store.outbox.undelivered())[0]?.text).toContain("only the first line");
  await store.close();
});

test("the same command elsewhere becomes a card", async () => {
  const { a, store } = await approvals("linux");
  const id = await store.tx((t) => a.request(t, { kind: "exec", text: "echo one\necho two" }, { requestedBy: "U1", route: routeHere({ channel: "C1" }) }));
  expect(id).toMatch(/^ap_/);
  expect(await store.approvals.list()).toHaveLength(1);
  await store.close();
});

test("code jobs without CLAWDBOT_CODE_COMMAND are refused, saying how to enable them", async () => {
  const { a, store } = await approvals("linux");
  expect(await store.tx((t) => a.request(t, { kind: "code", text: "refactor" }, { requestedBy: "U1", route: routeHere({ channel: "C2" }) }))).toBeNull();
  expect((await store.outbox.undelivered()).at(-1)?.text).toContain("CLAWDBOT_CODE_COMMAND");
  await store.close();
});
