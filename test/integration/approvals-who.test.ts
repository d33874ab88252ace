// Who may decide on a card, and from where: only approvers (asked first, so nobody else learns
// anything), only from the card itself, and with CLAWDBOT_SELF_APPROVAL=off never on one's own request.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, APPROVER2, STRANGER, calls, currentCard, hasButtons, lines, waitCard } from "./approvals-helpers.ts";

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

describe.skipIf(process.platform === "win32")("a decision is tied to its card", () => {
  test("a non-approver gets the same refusal for a real id, a made-up one and a forged click: nothing about the approval", async () => {
    const { e, b } = await setup();
    e.slash(STRANGER, CH, "exec echo never");
    const { card, id } = await waitCard(e, CH);
    const other = e.channelMessage(STRANGER, CH, "an ordinary message");
    e.click(STRANGER, CH, card.ts, "approval_approve", id);
    e.click(STRANGER, CH, card.ts, "approval_approve", "ap_000000000000");
    e.click(STRANGER, CH, other.ts, "approval_deny", id);
    const refusals = await waitFor(() => (ephemeralsTo(e, STRANGER).length === 3 ? ephemeralsTo(e, STRANGER) : undefined), "three refusals");
    const texts = new Set(refusals.map((c) => String(c.args.text)));
    expect(texts.size).toBe(1);
    expect([...texts][0]).toContain("Only the configured approvers");
    expect([...texts][0]).not.toContain("ap_");
    expect((await b.rt.store.approvals.get(id))?.status).toBe("pending");
  });

  test("an approver's click from another message carrying the card's id runs nothing; the card still works", async () => {
    const { e, b, d } = await setup();
    e.slash(STRANGER, CH, "exec echo run >> runs.txt");
    const { card, id } = await waitCard(e, CH);
    await waitFor(async () => (await b.rt.store.approvals.cards(id))[0]?.ts, "the card's ts recorded");
    // Another bot message in the same channel, and a message in another conversation.
    e.dm(STRANGER, "hello");
    const answer = await waitFor(() => e.botMessages().find((m) => m.text === "echo: hello"), "an ordinary bot message");
    const mine = e.channelMessage(APPROVER, CH, "a message of mine");
    e.click(APPROVER, answer.channel, answer.ts, "approval_approve", id);
    e.click(APPROVER, CH, mine.ts, "approval_approve", id);
    const refusals = await waitFor(() => (ephemeralsTo(e, APPROVER).length === 2 ? ephemeralsTo(e, APPROVER) : undefined), "two refusals");
    for (const r of refusals) expect(String(r.args.text)).toContain("not on the card");
    expect((await b.rt.store.approvals.get(id))?.status).toBe("pending");
    expect(existsSync(join(d, "runs.txt"))).toBe(false);

    e.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await b.rt.store.approvals.get(id))?.status === "succeeded", "the job, approved on its card");
    expect(lines(join(d, "runs.txt"))).toBe(1);
  });

  test("before the card's ts is recorded, a forged click runs nothing and a click on the card itself counts", async () => {
    const { e, b, d } = await setup();
    // The card is posted but Slack's answer (with its ts) is held back.
    e.fault("chat.postMessage", { executeThenHang: true, times: 1, channel: CH });
    e.slash(STRANGER, CH, "exec echo run >> runs.txt");
    const { card, id } = await waitCard(e, CH);
    expect((await b.rt.store.approvals.cards(id))[0]?.ts).toBeNull();
    const mine = e.channelMessage(APPROVER, CH, "a message of mine");
    e.click(APPROVER, CH, mine.ts, "approval_approve", id);
    // The refusal waits in the outbox behind the held post; the decision was made.
    await waitFor(async () => (await b.rt.store.outbox.undelivered()).some((o) => o.op === "ephemeral" && o.user === APPROVER), "the refusal queued");
    expect((await b.rt.store.approvals.get(id))?.status).toBe("pending");
    expect((await b.rt.store.approvals.cards(id))[0]?.ts).toBeNull();

    e.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await b.rt.store.approvals.get(id))?.status === "succeeded", "the job, approved on its card");
    expect((await b.rt.store.approvals.cards(id))[0]?.ts).toBe(card.ts);
    expect(lines(join(d, "runs.txt"))).toBe(1);
    e.releaseHangs();
    const refusal = await waitFor(() => ephemeralsTo(e, APPROVER)[0], "the refusal delivered");
    expect(String(refusal.args.text)).toContain("not on the card");
  });
});
