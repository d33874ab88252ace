// `replay` answering an Approve click that the bot received but never handled: it records
// the decision and leaves the job to the bot, which runs it once (replay exits at once and
// must not own a running job).
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { classify } from "../../src/core/inbound.ts";
import { openStore } from "../../src/store/index.ts";
import { botEnv, cleanup, spawnBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, lines, waitCard } from "./approvals-helpers.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

test("an unhandled Approve answered by replay runs in the bot, once", async () => {
  const emu = await startEmulator();
  emu.addChannel("CJOBS", { botMember: true });
  const marker = join(dir, "marker.txt");
  const extra = { CLAWDBOT_APPROVERS: APPROVER, CLAWDBOT_EXEC_CWD: dir, CLAWDBOT_EXPIRY_CHECK_MS: "50" };
  let bot = await startBot(emu, extra, dir);
  emu.slash(APPROVER, "CJOBS", `exec echo ran >> ${marker}`);
  const { card, id } = await waitCard(emu, "CJOBS");
  await bot.stop();

  // The click reached the store (recorded, acked) and the process died before answering it.
  const store = await openStore(join(dir, "clawdbot.db"));
  const payload = {
    type: "block_actions",
    trigger_id: "Tclick",
    user: { id: APPROVER },
    channel: { id: "CJOBS" },
    container: { type: "message", message_ts: card.ts, channel_id: "CJOBS" },
    actions: [{ action_id: "approval_approve", value: id, action_ts: "1.1", type: "button" }],
  };
  await store.events.record(classify("interactive", payload, {}).event, Date.now());
  await store.close();

  const r = await spawnBot(["replay", "--json"], botEnv(emu, dir, extra));
  expect(await r.exited).toBe(0);
  const after = await openStore(join(dir, "clawdbot.db"), { readonly: true });
  expect((await after.approvals.get(id))?.status).toBe("approved");
  await after.close();
  expect(lines(marker)).toBe(0);

  bot = await startBot(emu, extra, dir);
  await waitFor(async () => (await bot.rt.store.approvals.get(id))?.status === "succeeded", "the bot to run the job");
  expect(lines(marker)).toBe(1);
  await bot.stop();
  await emu.stop();
});
