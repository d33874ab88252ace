// The status page in a real browser (headless Chromium): a running bot with a pending
// approval, a failed outbox item and a warning, read as a person reads it; a screenshot; and
// the page refreshing itself in place, then saying so when the bot stops answering.
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { createHealthApp, type RunningServer, startHealthServer } from "../../src/health/app.ts";
import { renderStatusPage } from "../../src/health/status-page.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { dumpDom, screenshot, skipChromium } from "../helpers/chromium.ts";
import { visibleText } from "../helpers/html.ts";
import { snapshot } from "../health/snapshot.ts";
import { waitCard } from "./approvals-helpers.ts";

const APPROVER = "UAPPROVER1";
const REQUESTER = "UREQUESTER";
const COMMAND = 'echo "<script>alert(1)</script>" && uptime';

let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;
let server: RunningServer | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await bot?.stop();
  await emu?.stop();
  await server?.stop();
  bot = emu = server = undefined;
  for (const d of dirs.splice(0)) cleanup(d);
});

describe.skipIf(skipChromium())("the status page in Chromium", () => {
  test("a running bot's page shows its status, history, pending approval, failed item and warnings, escaped, with no secret", async () => {
    emu = await startEmulator();
    emu.addChannel("CJOBS", { botMember: true });
    emu.addChannel("CGONE", { botMember: true });
    const dir = tempDir();
    dirs.push(dir);
    // Liveness well above the test's length: Chromium starting beside the bot can starve the event
    // loop for seconds on a busy machine, and a silent-socket replacement would add a reconnect.
    bot = await startBot(emu, { CLAWDBOT_APPROVERS: APPROVER, CLAWDBOT_LIVENESS_TIMEOUT: "60" }, dir);
    const b = bot;
    await waitFor(() => emu?.openConnections() === 1, "the bot's socket");

    // A pending approval whose command holds markup.
    emu.slash(REQUESTER, "CJOBS", `exec ${COMMAND}`);
    await waitCard(emu, "CJOBS");
    // A reply Slack refuses for good: a failed outbox item with its error.
    emu.fault("chat.postMessage", { error: "channel_not_found", channel: "CGONE" });
    emu.mention("UALICE", "CGONE", "anyone there?");
    await waitFor(async () => (await b.rt.snapshot()).outbox_failed === 1, "a failed outbox item");
    // A drop: a warning in the log and two lines of connection history.
    emu.dropSockets();
    await waitFor(async () => (await b.rt.snapshot()).reconnects === 1, "the reconnect");
    // Secrets that reached the store unredacted (as a bug elsewhere might put them there).
    const token = emu.options.botToken;
    await b.rt.store.logs.append(Date.now(), "error", `planted: posting with ${token} failed`);
    const [failed] = await b.rt.store.outbox.failed(1);
    await b.rt.store.outbox.markFailed(failed?.id ?? 0, `channel_not_found (sent with ${token})`, Date.now());

    const url = `http://127.0.0.1:${b.rt.healthPort}/`;
    // Kept (and named) with CLAWDBOT_TEST_VERBOSE, to look at.
    const shots = tempDir("clawdbot-status-page-");
    if (process.env.CLAWDBOT_TEST_VERBOSE) console.log(`status page screenshot: ${join(shots, "status-page.png")}`);
    else dirs.push(shots);
    const shot = join(shots, "status-page.png");
    const [dom] = await Promise.all([dumpDom(url), screenshot(url, shot)]);
    const page = visibleText(dom);

    expect(dom).toContain("<title>clawdbot: OK</title>");
    expect(page).toContain("OK connected to Slack");
    expect(page).toMatch(/version \S+ · instance \S+:\d+ · up \d+ s · socket mode · store sqlite /);
    expect(page).toContain("reconnects: 1");
    // Connection history, newest first: reconnected, lost (and why), connected.
    expect(page).toMatch(/Connection history time what why \d\d:\d\d:\d\d reconnected \d\d:\d\d:\d\d connection lost \S.* \d\d:\d\d:\d\d connected/);
    const approval = (await b.rt.store.approvals.withStatus("pending"))[0];
    expect(page).toContain(`Pending approvals (1)`);
    expect(page).toContain(`${approval?.id} exec ${REQUESTER}`);
    expect(page).toContain(COMMAND);
    expect(page).toContain("Failed outbox items (1)");
    expect(page).toMatch(/post to CGONE \d+ channel_not_found \(sent with \[redacted\]\)/);
    expect(page).toContain("Recent warnings and errors");
    expect(page).toMatch(/warn Slack connection lost/);
    expect(page).toContain("error planted: posting with [redacted] failed");
    // The command's markup is text in the browser's DOM, not an element.
    expect(dom.match(/<script/g)).toHaveLength(1);
    expect(dom).not.toContain(token);

    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(10_000);
  }, 120_000);

  test("the page refreshes itself in place, and when the bot stops answering keeps the last page under a banner", async () => {
    // Answers 1 and 2 are pages; from the third on the "bot" is gone (an error status).
    let loads = 0;
    const app = createHealthApp({
      snapshot: () => snapshot(),
      statusPage: () =>
        renderStatusPage(
          {
            now: Date.now(),
            snapshot: snapshot({ events_received: loads }),
            instance: "test:1",
            store: null,
            connection: null,
            data: { approvals: [], failedOutbox: [], problems: [] },
          },
          (s) => s,
        ),
    });
    server = startHealthServer(
      {
        handle: (req) => {
          if (new URL(req.url).pathname !== "/") return app.handle(req);
          loads++;
          return loads <= 2 ? app.handle(req) : new Response("gone", { status: 502 });
        },
      },
      "127.0.0.1",
      0,
    );
    // Two refreshes (every 5 s) in virtual time: the second one fails.
    const dom = await dumpDom(`http://127.0.0.1:${server.port}/`, { virtualTimeMs: 11_000 });
    const page = visibleText(dom);
    expect(loads).toBeGreaterThanOrEqual(3);
    expect(page).toContain("events received: 2");
    expect(page).toMatch(/clawdbot is not answering since \S+.* \(HTTP 502\); still trying/);
    expect(dom).not.toMatch(/<p id="offline" hidden/);
  }, 120_000);
});
