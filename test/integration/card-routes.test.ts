// Cards an approver can see: a card asked in a DM goes to CLAWDBOT_APPROVAL_CHANNEL or to each
// approver's DM (every copy the same card, one decision updates them all, any copy decides), the
// requester is told where and hears the result; a /claw where the bot cannot post is answered
// through its response_url; a command too long for a card comes as a file beside it; a size
// refusal from Slack is never retried and gets a short notice.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import type { EmuMessage } from "../../src/emulator/types.ts";
import { type InProcessBot, cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, APPROVER2, STRANGER, calls, currentCard, findCard, hasButtons, lines, threadReplies } from "./approvals-helpers.ts";

let emu: SlackEmulator;
let bot: InProcessBot | undefined;
let dirs: string[] = [];

/** A bot whose agent asks to run `command` (marking each run in the data dir) whatever it is told. */
async function setup(extra: Record<string, string> = {}) {
  emu = await startEmulator();
  for (const u of [APPROVER, APPROVER2, STRANGER]) emu.addUser(u);
  const dir = tempDir();
  dirs.push(dir);
  const answer = JSON.stringify({ reply: "I need to look at the disk.", exec: { command: "echo disk-ok; echo run >> runs.txt", reason: "to see" } });
  bot = await startBot(
    emu,
    { CLAWDBOT_APPROVERS: `${APPROVER},${APPROVER2}`, CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: `cat > /dev/null; echo '${answer}'`, ...extra },
    dir,
  );
  await emu.waitFor(() => emu.openConnections() > 0 || undefined, { what: "socket" });
  return dir;
}

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await emu?.stop();
  for (const d of dirs) cleanup(d);
  dirs = [];
});

const statusOf = async (id: string) => (await bot?.rt.store.approvals.get(id))?.status;
const said = (channel: string, text: string) => emu.botMessages(channel).find((m: EmuMessage) => m.text.includes(text));

describe.skipIf(process.platform === "win32")("where cards go", () => {
  test("a non-approver's DM: each approver gets the same card by DM, the requester is told, one decision updates every copy", async () => {
    const dir = await setup();
    const d = emu.dm(STRANGER, "is the disk full?");
    const [a1, a2] = [emu.imChannel(APPROVER), emu.imChannel(APPROVER2)];
    const c1 = await waitFor(() => findCard(emu, a1), "the card in the first approver's DM");
    const c2 = await waitFor(() => findCard(emu, a2), "the card in the second approver's DM");
    expect(c2.id).toBe(c1.id);
    expect(c2.card.blocks).toEqual(c1.card.blocks);
    expect(findCard(emu, d.channel)).toBeUndefined();
    const notice = await waitFor(() => said(d.channel, "sent the card to the approvers"), "the requester told where");
    expect(notice.text).toContain(c1.id);

    // The second approver decides through their copy: both copies lose their buttons.
    emu.click(APPROVER2, a2, c2.card.ts, "approval_approve", c2.id);
    await waitFor(async () => (await statusOf(c1.id)) === "succeeded", "job succeeded");
    await waitFor(() => !hasButtons(currentCard(emu, a1, c1.card.ts)) && !hasButtons(currentCard(emu, a2, c2.card.ts)), "both copies updated");
    expect(JSON.stringify(currentCard(emu, a1, c1.card.ts)?.blocks)).toContain(`Approved by <@${APPROVER2}>`);
    // The result: in the thread of the copy it was decided through, and to the requester.
    await waitFor(() => threadReplies(emu, a2, c2.card.ts).find((m) => m.text.includes("disk-ok")), "result in the decider's thread");
    await waitFor(() => said(d.channel, "disk-ok"), "result to the requester");
    expect(threadReplies(emu, a1, c1.card.ts)).toHaveLength(0);
    expect(lines(join(dir, "runs.txt"))).toBe(1);
    expect((await bot?.rt.store.approvals.get(c1.id))?.decidedIn).toBe(a2);

    // A late click through the other copy: already decided, nothing runs again.
    emu.click(APPROVER, a1, c1.card.ts, "approval_approve", c1.id);
    await waitFor(() => calls(emu, "chat.postEphemeral").find((c) => c.args.user === APPROVER && String(c.args.text).includes("already decided")), "already decided");
    expect(lines(join(dir, "runs.txt"))).toBe(1);
  });

  test("with CLAWDBOT_APPROVAL_CHANNEL the card goes there, and a denial reaches the requester", async () => {
    const dir = await setup({ CLAWDBOT_APPROVAL_CHANNEL: "COPS" });
    emu.addChannel("COPS", { name: "ops", botMember: true });
    const d = emu.dm(STRANGER, "is the disk full?");
    const { card, id } = await waitFor(() => findCard(emu, "COPS"), "the card in #ops");
    const notice = await waitFor(() => said(d.channel, "an approver will see the card in"), "the requester told where");
    expect(notice.text).toContain("<#COPS>");
    expect(findCard(emu, emu.imChannel(APPROVER))).toBeUndefined();
    emu.click(APPROVER, "COPS", card.ts, "approval_deny", id);
    await waitFor(() => said(d.channel, "was denied"), "the requester hears of the denial");
    expect(existsSync(join(dir, "runs.txt"))).toBe(false);
  });

  test("an approval channel without the bot: the approvers get DMs instead, with a warning", async () => {
    await setup({ CLAWDBOT_APPROVAL_CHANNEL: "COPS" });
    emu.addChannel("COPS", { name: "ops", botMember: false });
    emu.dm(STRANGER, "is the disk full?");
    await waitFor(() => findCard(emu, emu.imChannel(APPROVER)), "the card by DM");
    const warned = (await bot?.rt.store.logs.tail(500))?.filter((l) => l.level === "warn" && l.msg.includes("CLAWDBOT_APPROVAL_CHANNEL"));
    expect(warned?.length).toBeGreaterThanOrEqual(1);
    expect(calls(emu, "chat.postMessage").filter((c) => c.args.channel === "COPS")).toHaveLength(0);
  });

  test("an approver's own DM keeps the card, and a channel with the bot keeps it", async () => {
    await setup();
    const d = emu.dm(APPROVER, "is the disk full?");
    await waitFor(() => findCard(emu, d.channel), "the card in the approver's DM");
    emu.addChannel("CTEAM", { botMember: true });
    emu.mention(STRANGER, "CTEAM", "is the disk full?");
    await waitFor(() => findCard(emu, "CTEAM"), "the card in the channel");
    expect(findCard(emu, emu.imChannel(APPROVER2))).toBeUndefined();
  });
});

describe.skipIf(process.platform === "win32")("/claw where the bot cannot post", () => {
  test("a question in a channel without the bot is answered through the response_url; nothing failed", async () => {
    await setup({ CLAWDBOT_AGENT: "echo" });
    emu.addChannel("COUTSIDE", { botMember: false });
    emu.slash(STRANGER, "COUTSIDE", "what time is it?");
    const r = await waitFor(() => emu.responses.find((p) => String(p.body.text).includes("echo: what time is it?")), "the answer via response_url");
    expect(r.status).toBe(200);
    expect(calls(emu, "chat.postMessage").filter((c) => c.args.channel === "COUTSIDE")).toHaveLength(0);
    expect((await bot?.rt.store.outbox.counts())?.failed).toBe(0);
  });

  test("/claw exec in a DM between two people: the card goes to the approvers, the requester is told through the response_url and hears the result in their DM", async () => {
    const dir = await setup();
    emu.addChannel("DTWOPEOPLE", { kind: "im", members: [STRANGER, "UFRIEND"], botMember: false });
    emu.slash(STRANGER, "DTWOPEOPLE", "exec echo disk-ok; echo run >> runs.txt");
    const a1 = emu.imChannel(APPROVER);
    const { card, id } = await waitFor(() => findCard(emu, a1), "the card by DM");
    const told = await waitFor(() => emu.responses.find((p) => String(p.body.text).includes(id)), "the requester told");
    expect(String(told.body.text)).toContain("sent the card to the approvers");
    emu.click(APPROVER, a1, card.ts, "approval_approve", id);
    await waitFor(() => said(emu.imChannel(STRANGER), "disk-ok"), "the result in the requester's DM");
    expect(lines(join(dir, "runs.txt"))).toBe(1);
    expect(calls(emu, "chat.postMessage").filter((c) => c.args.channel === "DTWOPEOPLE")).toHaveLength(0);
    expect((await bot?.rt.store.outbox.counts())?.failed).toBe(0);
  });

  test("a post refused for membership after all (removed meanwhile) falls back to the response_url", async () => {
    await setup({ CLAWDBOT_AGENT: "echo" });
    emu.addChannel("CGONE", { botMember: true });
    emu.fault("chat.postMessage", { error: "not_in_channel", channel: "CGONE" });
    emu.slash(STRANGER, "CGONE", "still there?");
    await waitFor(() => emu.responses.find((p) => String(p.body.text).includes("echo: still there?")), "the answer via response_url");
    await waitFor(async () => (await bot?.rt.store.outbox.counts())?.pending === 0, "outbox settled");
    expect((await bot?.rt.store.outbox.counts())?.failed).toBe(0);
  });
});

describe.skipIf(process.platform === "win32")("cards within Slack's limits", () => {
  test("a command too long for a card is attached whole as a file beside the card", async () => {
    await setup();
    emu.addChannel("CJOBS", { botMember: true });
    const long = Array.from({ length: 400 }, (_, i) => `echo line-${i}-${"x".repeat(30)}`).join("; ");
    emu.slash(STRANGER, "CJOBS", `exec ${long}`);
    const { card, id } = await waitFor(() => findCard(emu, "CJOBS"), "the card");
    expect(JSON.stringify(card.blocks)).toContain("Shortened");
    const file = await waitFor(() => emu.files.find((f) => f.name === `${id}-command.txt` && f.completed), "the command file");
    expect(file.channel).toBe("CJOBS");
    expect(new TextDecoder().decode(file.content)).toBe(long);
  });

  test("a size refusal from Slack is never retried, and the conversation gets a short notice", async () => {
    await setup({ CLAWDBOT_AGENT: "echo" });
    emu.addChannel("CBIG", { botMember: true });
    emu.fault("chat.postMessage", { error: "msg_blocks_too_long", channel: "CBIG", times: 1 });
    emu.mention(STRANGER, "CBIG", "hello");
    const notice = await waitFor(() => said("CBIG", "as too large"), "the notice");
    expect(notice.text).toContain("msg_blocks_too_long");
    await waitFor(async () => (await bot?.rt.store.outbox.counts())?.failed === 1, "kept as failed");
    // One attempt at the refused message, one notice: nothing retried.
    await bot?.rt.store.outbox.counts();
    expect(calls(emu, "chat.postMessage").filter((c) => c.args.channel === "CBIG")).toHaveLength(2);
  });
});
