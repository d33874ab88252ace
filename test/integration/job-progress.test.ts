// A long job shows its latest output in the card's thread while it runs (one message, edited
// in place at most every interval, redacted like the result), then the result comes once.
import { afterEach, describe, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, calls, threadReplies, waitCard } from "./approvals-helpers.ts";

const CH = "CPROGRESS";
let emu: SlackEmulator;
let bot: InProcessBot | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await emu?.stop();
  for (const d of dirs.splice(0)) cleanup(d);
});

async function setup(env: Record<string, string> = {}) {
  emu = await startEmulator();
  emu.addChannel(CH, { members: [APPROVER] });
  const dir = tempDir();
  dirs.push(dir);
  // "After 10 s, every 5 s" shortened: a 30 s job in 2.5 s, the same behaviour.
  bot = await startBot(
    emu,
    { CLAWDBOT_APPROVERS: APPROVER, CLAWDBOT_JOB_PROGRESS_AFTER_MS: "400", CLAWDBOT_JOB_PROGRESS_EVERY_MS: "300", ...env },
    dir,
  );
  await waitFor(async () => (await bot?.rt.snapshot())?.connected, "connected");
  return emu;
}

async function approveJob(e: SlackEmulator, command: string, beforeClick = () => {}) {
  e.slash(APPROVER, CH, `exec ${command}`);
  const { card, id } = await waitCard(e, CH);
  beforeClick();
  e.click(APPROVER, CH, card.ts, "approval_approve", id);
  return { card, id };
}

describe.skipIf(process.platform === "win32")("live job output", () => {
  test("a long job: its latest lines appear in the card's thread and are edited in place, redacted; then the result once", async () => {
    const e = await setup();
    // Prints the bot's own token among its lines: never shown.
    const { card, id } = await approveJob(e, `for i in 1 2 3 4 5 6 7 8 9 10; do echo "step $i ${e.options.botToken}"; sleep 0.25; done`);
    const live = await waitFor(() => threadReplies(e, CH, card.ts).find((m) => m.text.includes(`Job ${id} has been running`)), "the live output");
    expect(live.text).toContain("step ");
    await waitFor(async () => (await bot?.rt.store.approvals.get(id))?.status === "succeeded", "the job done");
    const result = await waitFor(() => threadReplies(e, CH, card.ts).find((m) => m.text.includes("exit 0")), "the result");
    // Once over, the live message says so (the result did not wait for that).
    const final = await waitFor(() => e.messages(CH).find((m) => m.ts === live.ts && m.text.includes(`Job ${id} ran for`)), "the live output finished");
    expect(final.text).toContain("step 10");
    const edits = calls(e, "chat.update").filter((c) => c.args.ts === live.ts);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    // In place, at most one edit per interval.
    for (let i = 1; i < edits.length; i++) expect((edits[i]?.at ?? 0) - (edits[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(280);
    // Order in the thread: the live output, then the result; each once.
    expect(Number(result.ts)).toBeGreaterThan(Number(live.ts));
    expect(threadReplies(e, CH, card.ts).filter((m) => m.text.includes("exit 0"))).toHaveLength(1);
    expect(threadReplies(e, CH, card.ts).filter((m) => m.text.includes(`Job ${id} `) && m.ts !== result.ts)).toHaveLength(1);
    for (const c of [...calls(e, "chat.postMessage"), ...calls(e, "chat.update")]) expect(JSON.stringify(c.args)).not.toContain(e.options.botToken);
  });

  test("a short job shows no live output: just the result", async () => {
    const e = await setup();
    const { card } = await approveJob(e, "echo quick");
    await waitFor(() => threadReplies(e, CH, card.ts).find((m) => m.text.includes("exit 0")), "the result");
    expect(threadReplies(e, CH, card.ts).filter((m) => m.text.includes("has been running"))).toHaveLength(0);
  });

  test("Slack refusing the live output changes nothing for the job: the result comes once", async () => {
    const e = await setup();
    // The first post after the card is the live output's.
    const { card, id } = await approveJob(e, "sleep 1; echo slow-done", () =>
      e.fault("chat.postMessage", { status: 429, retryAfter: 30, times: 1, channel: CH }),
    );
    await waitFor(async () => (await bot?.rt.store.approvals.get(id))?.status === "succeeded", "the job done");
    await waitFor(() => threadReplies(e, CH, card.ts).find((m) => m.text.includes("slow-done")), "the result");
    expect(JSON.stringify(calls(e, "chat.postMessage").find((c) => c.status === 429)?.args)).toContain(`job:${id}`);
    expect(threadReplies(e, CH, card.ts).filter((m) => m.text.includes("exit 0"))).toHaveLength(1);
    expect(threadReplies(e, CH, card.ts).filter((m) => m.text.includes("has been running"))).toHaveLength(0);
  });
});
