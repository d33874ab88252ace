// The kill switch holds jobs too: "while paused ... no job starts". An approver's click on
// a card while paused is refused (the card stays open); after resume the same card works.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { type InProcessBot, cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, STRANGER, calls, currentCard, hasButtons, lines, waitCard } from "./approvals-helpers.ts";

const CH = "CJOBS";
let emu: SlackEmulator;
let bot: InProcessBot | undefined;
let dir = "";

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await emu?.stop();
  cleanup(dir);
});

describe.skipIf(process.platform === "win32")("paused jobs", () => {
  test("approve while paused: refused, nothing runs, card stays open; after resume it runs once", async () => {
    emu = await startEmulator();
    emu.addChannel(CH, { botMember: true });
    dir = tempDir();
    bot = await startBot(emu, { CLAWDBOT_APPROVERS: APPROVER }, dir);
    await emu.waitFor(() => emu.openConnections() > 0 || undefined, { what: "socket" });
    const statusOf = async (id: string) => (await bot?.rt.store.approvals.get(id))?.status;

    emu.slash(STRANGER, CH, "exec echo run >> runs.txt");
    const { card, id } = await waitCard(emu, CH);
    emu.slash(APPROVER, CH, "pause");
    await waitFor(async () => (await bot?.rt.store.settings.isPaused()) || undefined, "paused");

    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    const eph = await waitFor(() => calls(emu, "chat.postEphemeral").find((c) => c.args.user === APPROVER), "refusal");
    expect(String(eph.args.text)).toContain("paused");
    expect(await statusOf(id)).toBe("pending");
    expect(hasButtons(currentCard(emu, CH, card.ts))).toBe(true);
    expect(existsSync(join(dir, "runs.txt"))).toBe(false);

    emu.slash(APPROVER, CH, "resume");
    await waitFor(async () => !(await bot?.rt.store.settings.isPaused()) || undefined, "resumed");
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await statusOf(id)) === "succeeded" || undefined, "job ran after resume");
    expect(lines(join(dir, "runs.txt"))).toBe(1);
  });

  test("a job approved before a crash is held while paused and starts on resume", async () => {
    emu = await startEmulator();
    emu.addChannel(CH, { botMember: true });
    dir = tempDir();
    bot = await startBot(emu, { CLAWDBOT_APPROVERS: APPROVER }, dir);
    await emu.waitFor(() => emu.openConnections() > 0 || undefined, { what: "socket" });
    emu.slash(STRANGER, CH, "exec echo run >> runs.txt");
    const { id } = await waitCard(emu, CH);
    const store = bot.rt.store;
    // What a crash between the decision's commit and the job's start leaves behind, while paused.
    await store.tx(async (t) => {
      await t.approvals.transition(id, ["pending"], "approved", { decidedBy: APPROVER, decidedAt: Date.now() });
      await t.settings.setPaused(true, Date.now());
    });
    await bot.stop();
    bot = await startBot(emu, { CLAWDBOT_APPROVERS: APPROVER }, dir);
    await emu.waitFor(() => emu.openConnections() > 0 || undefined, { what: "socket" });
    // recover() runs inside startRuntime: a wrong start would already show as running.
    expect((await bot.rt.store.approvals.get(id))?.status).toBe("approved");
    expect(existsSync(join(dir, "runs.txt"))).toBe(false);
    emu.slash(APPROVER, CH, "resume");
    await waitFor(async () => (await bot?.rt.store.approvals.get(id))?.status === "succeeded" || undefined, "started on resume");
    expect(lines(join(dir, "runs.txt"))).toBe(1);
  });
});
