// The bot against Slack's refusals (issue 8 item 7): a workspace or plan refusal is final on
// the first answer, never retried; an ok:false `rate_limited` waits its Retry-After and is
// then delivered once. Asserted on what the emulator received.
import { afterEach, describe, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { type InProcessBot, cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { STRANGER, calls } from "./approvals-helpers.ts";

const CH = "CREFUSE";
let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await emu?.stop();
  emu = undefined;
  for (const d of dirs.splice(0)) cleanup(d);
});

async function setup(): Promise<SlackEmulator> {
  const e = await startEmulator();
  emu = e;
  e.addChannel(CH, { botMember: true });
  const dir = tempDir();
  dirs.push(dir);
  // A retry, were there one, would come within 50 ms.
  bot = await startBot(e, { CLAWDBOT_AGENT: "echo", CLAWDBOT_OUTBOX_RETRY_MS: "50" }, dir);
  await e.waitFor(() => e.openConnections() > 0 || undefined, { what: "socket" });
  return e;
}

const attempts = (e: SlackEmulator, text: string) => calls(e, "chat.postMessage").filter((c) => String(c.args.text ?? "").includes(text)).length;

describe.skipIf(process.platform === "win32")("Slack's refusals", () => {
  for (const code of ["posting_to_general_channel_denied", "is_inactive", "storage_limit_reached", "upgrade_required"]) {
    test(`a post refused with ${code} fails for good at once and is never retried`, async () => {
      const e = await setup();
      e.fault("chat.postMessage", { error: code, channel: CH });
      e.mention(STRANGER, CH, `refused-${code}`);
      await waitFor(async () => (await bot?.rt.store.outbox.counts())?.failed === 1, "the answer kept as failed");
      // Another message through the same bot afterwards: by then a retry would have happened.
      e.clearFaults();
      e.mention(STRANGER, CH, "after-the-refusal");
      await waitFor(() => e.botMessages(CH).find((m) => m.text.includes("after-the-refusal")), "the next answer");
      expect(attempts(e, `refused-${code}`)).toBe(1);
      expect(e.botMessages(CH).some((m) => m.text.includes(`refused-${code}`))).toBe(false);
    });
  }

  test("an ok:false rate_limited waits its Retry-After, then the answer is delivered once", async () => {
    const e = await setup();
    e.fault("chat.postMessage", { error: "rate_limited", retryAfter: 1, channel: CH, times: 1 });
    const m = e.mention(STRANGER, CH, "limited-once");
    await waitFor(() => e.botMessages(CH).find((x) => x.text.includes("limited-once")), "the answer");
    const tries = calls(e, "chat.postMessage").filter((c) => String(c.args.text ?? "").includes("limited-once"));
    expect(tries).toHaveLength(2);
    // Not before Slack's Retry-After (1 s) had passed.
    expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(e.botMessages(CH).filter((x) => x.text.includes("limited-once") && x.thread_ts === m.ts)).toHaveLength(1);
  });
});
