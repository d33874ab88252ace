// Approval cards end to end against the emulator, in process: who may decide, runs once
// however many clicks, expiry, Slack escaping, refusals and big output.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cgroupBase } from "../../src/jobs/cgroup.ts";
import { type InProcessBot, cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import {
  APPROVER,
  APPROVER2,
  STRANGER,
  calls,
  currentCard,
  findCard,
  hasButtons,
  lines,
  threadReplies,
  unescapeSlack,
  waitCard,
} from "./approvals-helpers.ts";

const CH = "CJOBS";
let emu: SlackEmulator;
let bot: InProcessBot | undefined;
let dirs: string[] = [];

async function setup(extra: Record<string, string> = {}) {
  emu = await startEmulator();
  emu.addChannel(CH, { botMember: true });
  const dir = tempDir();
  dirs.push(dir);
  bot = await startBot(emu, { CLAWDBOT_APPROVERS: `${APPROVER},${APPROVER2}`, ...extra }, dir);
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

/** `/claw exec <cmd>` and the card it produces. */
async function execCard(cmd: string) {
  emu.slash(STRANGER, CH, `exec ${cmd}`);
  return waitCard(emu, CH);
}

const statusOf = async (id: string) => (await bot?.rt.store.approvals.get(id))?.status;

describe.skipIf(process.platform === "win32")("approvals", () => {
  test("approve: runs once, output in the card's thread, card updated without buttons", async () => {
    const dir = await setup();
    const { card, id } = await execCard("echo hello-from-job; echo run >> runs.txt");
    expect(hasButtons(card)).toBe(true);
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await statusOf(id)) === "succeeded", "job succeeded");
    const reply = await waitFor(
      () => threadReplies(emu, CH, card.ts).find((m) => m.text.includes("hello-from-job")),
      "result in thread",
    );
    expect(reply.text).toContain("exit 0");
    await waitFor(() => currentCard(emu, CH, card.ts)?.blocks && JSON.stringify(currentCard(emu, CH, card.ts)?.blocks).includes("Finished"), "card finished");
    const now = currentCard(emu, CH, card.ts);
    expect(hasButtons(now)).toBe(false);
    expect(JSON.stringify(now?.blocks)).toContain(`<@${APPROVER}>`);
    expect(calls(emu, "chat.update").length).toBeGreaterThanOrEqual(1);
    expect(lines(join(dir, "runs.txt"))).toBe(1);
    const row = await bot?.rt.store.approvals.get(id);
    expect(row?.decidedBy).toBe(APPROVER);
  });

  test("a non-approver gets an ephemeral refusal; nothing runs; the refusal is logged", async () => {
    const dir = await setup();
    const { card, id } = await execCard("echo run >> runs.txt");
    emu.click(STRANGER, CH, card.ts, "approval_approve", id);
    const eph = await waitFor(() => calls(emu, "chat.postEphemeral").find((c) => c.args.user === STRANGER), "ephemeral refusal");
    expect(String(eph.args.text)).toContain("approvers");
    expect(await statusOf(id)).toBe("pending");
    expect(hasButtons(currentCard(emu, CH, card.ts))).toBe(true);
    expect(existsSync(join(dir, "runs.txt"))).toBe(false);
    const logged = (await bot?.rt.store.logs.tail(1000))?.filter((l) => l.msg.includes("not an approver"));
    expect(logged?.length).toBeGreaterThanOrEqual(1);
  });

  test("deny: nothing runs, card updated to say who denied", async () => {
    const dir = await setup();
    const { card, id } = await execCard("echo run >> runs.txt");
    emu.click(APPROVER, CH, card.ts, "approval_deny", id);
    await waitFor(() => !hasButtons(currentCard(emu, CH, card.ts)), "card updated");
    expect(JSON.stringify(currentCard(emu, CH, card.ts)?.blocks)).toContain("Denied by");
    expect(await statusOf(id)).toBe("denied");
    // a late approve changes nothing
    emu.click(APPROVER2, CH, card.ts, "approval_approve", id);
    await waitFor(() => calls(emu, "chat.postEphemeral").find((c) => c.args.user === APPROVER2), "already-decided note");
    expect(existsSync(join(dir, "runs.txt"))).toBe(false);
  });

  test("double clicks and two approvers at once run the job exactly once", async () => {
    const dir = await setup();
    const { card, id } = await execCard("echo run >> runs.txt");
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    await Bun.sleep(1);
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    emu.click(APPROVER2, CH, card.ts, "approval_approve", id);
    emu.click(APPROVER2, CH, card.ts, "approval_deny", id);
    await waitFor(async () => (await statusOf(id)) === "succeeded", "job succeeded");
    // three losing clicks: three ephemeral notes
    await waitFor(() => calls(emu, "chat.postEphemeral").length >= 3 || undefined, "notes to the losers");
    await waitFor(() => threadReplies(emu, CH, card.ts).length >= 1 || undefined, "result");
    expect(lines(join(dir, "runs.txt"))).toBe(1);
    expect(threadReplies(emu, CH, card.ts).length).toBe(1);
  });

  test("approve racing expiry: at most one outcome; an expired card is updated and later clicks only get a note", async () => {
    const dir = await setup({ CLAWDBOT_APPROVAL_TTL: "0.4" });
    const { card, id } = await execCard("echo run >> runs.txt");
    // Click right around the deadline: either the click wins (runs once) or expiry wins (never runs).
    const row = await bot?.rt.store.approvals.get(id);
    await waitFor(() => Date.now() >= (row?.expiresAt ?? 0) - 2 || undefined, "near expiry", 5000);
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    emu.click(APPROVER2, CH, card.ts, "approval_approve", id);
    await waitFor(async () => ["succeeded", "expired"].includes((await statusOf(id)) ?? "") || undefined, "an outcome");
    const outcome = await statusOf(id);
    await waitFor(() => !hasButtons(currentCard(emu, CH, card.ts)) || undefined, "card without buttons");
    await waitFor(() => calls(emu, "chat.postEphemeral").length >= 1 || undefined, "note for the loser");
    expect(lines(join(dir, "runs.txt"))).toBe(outcome === "succeeded" ? 1 : 0);

    // A second card left alone expires; a click afterwards does nothing but a note.
    const before = calls(emu, "chat.postEphemeral").length;
    emu.slash(STRANGER, CH, "exec echo run2 >> runs2.txt");
    const second = await waitFor(() => {
      const c = emu.botMessages(CH).find((m) => m.ts !== card.ts && hasButtons(m));
      return c && findCard({ botMessages: () => [c] } as unknown as SlackEmulator);
    }, "second card");
    await waitFor(async () => (await statusOf(second.id)) === "expired", "expired");
    await waitFor(() => JSON.stringify(currentCard(emu, CH, second.card.ts)?.blocks).includes("Expired"), "card says expired");
    expect(hasButtons(currentCard(emu, CH, second.card.ts))).toBe(false);
    emu.click(APPROVER, CH, second.card.ts, "approval_approve", second.id);
    const note = await waitFor(() => calls(emu, "chat.postEphemeral").slice(before).find((c) => c.args.user === APPROVER), "expired note");
    expect(String(note.args.text)).toMatch(/expired/);
    expect(existsSync(join(dir, "runs2.txt"))).toBe(false);
    expect(await statusOf(second.id)).toBe("expired");
  });

  test("/claw exec with &, <, > as Slack escapes them: card verbatim, runs as typed", async () => {
    const dir = await setup();
    const typed = "echo a && echo b > f";
    const slash = emu.slash(STRANGER, CH, `exec ${typed}`);
    void slash;
    // The emulator escapes slash text as Slack does: check that the bot got the escaped form.
    const env = emu.envelopes.find((e) => e.type === "slash_commands");
    expect(JSON.stringify(env?.payload)).toContain("echo a &amp;&amp; echo b &gt; f");
    const { card, id } = await waitCard(emu, CH);
    expect(JSON.stringify(card.blocks)).toContain(JSON.stringify(typed).slice(1, -1));
    expect((await bot?.rt.store.approvals.get(id))?.text).toBe(typed);
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await statusOf(id)) === "succeeded", "ran");
    expect(readFileSync(join(dir, "f"), "utf8")).toBe("b\n");
  });

  test("no approvers configured: exec refused with how to enable", async () => {
    emu = await startEmulator();
    emu.addChannel(CH, { botMember: true });
    const dir = tempDir();
    dirs.push(dir);
    bot = await startBot(emu, {}, dir);
    const s = emu.slash(STRANGER, CH, "exec echo hi");
    const msg = await waitFor(
      () => emu.messages().find((m) => m.text.includes("CLAWDBOT_APPROVERS")) ?? calls(emu, "chat.postMessage").find((c) => String(c.args.text).includes("CLAWDBOT_APPROVERS")),
      "refusal",
    );
    expect(msg).toBeTruthy();
    void s;
    expect(findCard(emu)).toBeUndefined();
    expect((await bot.rt.store.approvals.list()).length).toBe(0);
  });

  test("code job without CLAWDBOT_CODE_COMMAND: refused", async () => {
    await setup();
    emu.slash(STRANGER, CH, "code write a haiku");
    await waitFor(() => emu.messages().find((m) => m.text.includes("CLAWDBOT_CODE_COMMAND")), "refusal");
    expect(findCard(emu)).toBeUndefined();
  });

  test("exec timeout kills the whole process tree", async () => {
    const dir = await setup({ CLAWDBOT_EXEC_TIMEOUT: "0.5" });
    // A grandchild that would write a marker after the deadline if it survived.
    const { card, id } = await execCard("(sleep 1.5; echo alive > marker) & sleep 30");
    const t0 = Date.now();
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await statusOf(id)) === "failed", "timed out");
    expect(Date.now() - t0).toBeLessThan(5000);
    const r = await waitFor(() => threadReplies(emu, CH, card.ts).find((m) => m.text.includes("timed out")), "timeout reply");
    // "process tree killed" only where it is verified: a cgroup of its own (else the group is named).
    expect(r.text).toContain(cgroupBase() ? "process tree killed" : "its process group killed");
    await Bun.sleep(1600); // past the grandchild's own deadline: the marker must not appear
    expect(existsSync(join(dir, "marker"))).toBe(false);
  });

  test("1 MB of output: summary message, then the whole output as one file in the thread", async () => {
    await setup();
    // 1 MiB of varied lines, with Slack's special characters, so a lost or doubled byte shows.
    const gen = `i=0; while [ $i -lt 16000 ]; do printf 'line %05d <&> %s\\n' $i abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv; i=$((i+1)); done`;
    const { card, id } = await execCard(gen);
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await statusOf(id)) === "succeeded", "ran", 20_000);
    const file = await waitFor(() => emu.files.find((f) => f.completed && f.name === `${id}-output.txt`), "output file", 20_000);
    const want = Array.from({ length: 16000 }, (_, i) => `line ${String(i).padStart(5, "0")} <&> abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv\n`).join("");
    expect(want.length).toBeGreaterThan(1_000_000);
    const got = new TextDecoder().decode(file.content);
    expect(got.length).toBe(want.length);
    expect(got === want).toBe(true);
    expect(file.channel).toBe(CH);
    expect(file.thread_ts).toBe(card.ts);
    // The summary as before, one file message, and no split parts.
    const replies = threadReplies(emu, CH, card.ts);
    expect(replies.filter((m) => m.text.includes("exit 0")).length).toBe(1);
    expect(replies.filter((m) => m.files?.length).length).toBe(1);
    expect(replies.filter((m) => /^Output of ap_/.test(m.text)).length).toBe(0);
    expect(emu.files.filter((f) => f.completed).length).toBe(1);
  }, 30_000);

  test("uploads refused (missing_scope): the output arrives whole as numbered messages instead", async () => {
    await setup();
    emu.fault("files.getUploadURLExternal", { error: "missing_scope" });
    const gen = `i=0; while [ $i -lt 2000 ]; do printf 'line %05d <&> %s\\n' $i abcdefghijklmnopqrstuvwxyz; i=$((i+1)); done`;
    const { card, id } = await execCard(gen);
    emu.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await statusOf(id)) === "succeeded", "ran", 20_000);
    const full = await waitFor(() => fullOutput(emu, card.ts, id), "all output parts", 20_000);
    const want = Array.from({ length: 2000 }, (_, i) => `line ${String(i).padStart(5, "0")} <&> abcdefghijklmnopqrstuvwxyz\n`).join("");
    expect(full === want).toBe(true);
    expect(emu.files.filter((f) => f.completed).length).toBe(0);
  }, 30_000);
});

/** Reassembles the full-output parts posted in the card's thread, or null until all are there. */
function fullOutput(emu: SlackEmulator, cardTs: string, id: string): string | null {
  const parts = threadReplies(emu, CH, cardTs)
    .map((m) => /^Output of (ap_[0-9a-f]+), part (\d+)\/(\d+):\n```\n([\s\S]*)\n```$/.exec(m.text))
    .filter((m): m is RegExpExecArray => !!m && m[1] === id);
  const total = Number(parts[0]?.[3] ?? 0);
  if (!total || parts.length < total) return null;
  parts.sort((a, b) => Number(a[2]) - Number(b[2]));
  return parts.map((p) => unescapeSlack(p[4] ?? "")).join("");
}
