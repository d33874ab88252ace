// Who may decide on a card, and from where: the two-person rule (CLAWDBOT_SELF_APPROVAL=off).
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, APPROVER2, calls, currentCard, hasButtons, lines, waitCard } from "./approvals-helpers.ts";

const CH = "CWHO";
let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;
let dir: string | undefined;

afterEach(async () => {
  await bot?.stop();
  await emu?.stop();
  if (dir) cleanup(dir);
  emu = bot = dir = undefined;
});

async function setup(extra: Record<string, string> = {}): Promise<{ e: SlackEmulator; b: InProcessBot; d: string }> {
  const e = await startEmulator();
  emu = e;
  e.addChannel(CH, { botMember: true });
  const d = tempDir();
  dir = d;
  const b = await startBot(e, { CLAWDBOT_APPROVERS: `${APPROVER},${APPROVER2}`, CLAWDBOT_EXEC_CWD: d, ...extra }, d);
  bot = b;
  await waitFor(() => e.openConnections() === 1, "the bot's socket");
  return { e, b, d };
}

const ephemeralsTo = (e: SlackEmulator, user: string) => calls(e, "chat.postEphemeral").filter((c) => c.args.user === user);

describe.skipIf(process.platform === "win32")("the two-person rule", () => {
  test("self-approval off: the requester's Approve is refused with the reason, the card waits, another approver's runs it", async () => {
    const { e, b, d } = await setup({ CLAWDBOT_SELF_APPROVAL: "off" });
    e.slash(APPROVER, CH, "exec echo run >> runs.txt");
    const { card, id } = await waitCard(e, CH);
    e.click(APPROVER, CH, card.ts, "approval_approve", id);
    const refusal = await waitFor(() => ephemeralsTo(e, APPROVER)[0], "the refusal");
    expect(String(refusal.args.text)).toContain("CLAWDBOT_SELF_APPROVAL=off");
    expect(String(refusal.args.text)).toContain("another approver");
    expect((await b.rt.store.approvals.get(id))?.status).toBe("pending");
    expect(hasButtons(currentCard(e, CH, card.ts))).toBe(true);
    expect(existsSync(join(d, "runs.txt"))).toBe(false);

    e.click(APPROVER2, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await b.rt.store.approvals.get(id))?.status === "succeeded", "the job, approved by the other approver");
    expect((await b.rt.store.approvals.get(id))?.decidedBy).toBe(APPROVER2);
    expect(lines(join(d, "runs.txt"))).toBe(1);
  });

  test("self-approval off: the requester may still deny (withdraw) their own request", async () => {
    const { e, b } = await setup({ CLAWDBOT_SELF_APPROVAL: "off" });
    e.slash(APPROVER, CH, "exec echo never");
    const { card, id } = await waitCard(e, CH);
    e.click(APPROVER, CH, card.ts, "approval_deny", id);
    await waitFor(async () => (await b.rt.store.approvals.get(id))?.status === "denied", "denied by the requester");
    expect(ephemeralsTo(e, APPROVER)).toHaveLength(0);
  });

  test("self-approval on (the default): an approver may approve their own request", async () => {
    const { e, b, d } = await setup();
    e.slash(APPROVER, CH, "exec echo run >> runs.txt");
    const { card, id } = await waitCard(e, CH);
    e.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await b.rt.store.approvals.get(id))?.status === "succeeded", "the job");
    expect(lines(join(d, "runs.txt"))).toBe(1);
  });
});
