// The outbox's `upload` op against the emulator: one file in the thread; an uncertain upload
// is looked up before it is sent again (exactly one file); a refused upload goes as messages.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { systemClock } from "../../src/core/clock.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { OutboxSender } from "../../src/core/outbox-sender.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { WebPort } from "../../src/slack/web-port.ts";
import type { Store } from "../../src/core/store.ts";
import { openStore } from "../../src/store/index.ts";
import { cleanup, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { unescapeSlack } from "../integration/approvals-helpers.ts";

const CH = "CFILES";
let emu: SlackEmulator;
let store: Store;
let sender: OutboxSender;
let dir: string;

afterEach(async () => {
  await sender?.stop(1000);
  await store?.close();
  await emu?.stop();
  cleanup(dir);
});

async function setup(timeoutMs = 2000) {
  emu = await startEmulator();
  emu.addChannel(CH, { botMember: true });
  dir = tempDir();
  store = await openStore(join(dir, "clawdbot.db"));
  const slack = new WebPort(emu.options.botToken, emu.apiUrl, { timeoutMs });
  const log = memoryLogger();
  sender = new OutboxSender({ store, slack, clock: systemClock, log, owner: "test:1", retryInitialMs: 50, retryMaxMs: 500, leaseMs: 10_000 });
  const parent = await slack.post({ channel: CH, text: "card", outboxId: 0 });
  return { parent: parent.ts, log };
}

/** 200 KB with Slack's special characters and a ``` fence: the file must be byte for byte. */
const CONTENT = Array.from({ length: 4000 }, (_, i) => `row ${i} <&> \`\`\` ${"x".repeat(30)}\n`).join("");

async function queueUpload(threadTs: string): Promise<number> {
  const id = await store.outbox.enqueue(
    { op: "upload", channel: CH, threadTs, text: "Full output of ap_test", content: CONTENT, fileName: "ap_test-output.txt", fileTitle: "Output of ap_test" },
    Date.now(),
  );
  sender.kick();
  return id;
}

const completed = () => emu.files.filter((f) => f.completed);
const settled = (id: number) =>
  waitFor(async () => ["sent", "suppressed", "failed"].includes((await store.outbox.get(id))?.status ?? "") || undefined, `outbox #${id} settled`);

test("an upload is one file in the thread, content exact", async () => {
  const { parent } = await setup();
  const id = await queueUpload(parent);
  await settled(id);
  expect((await store.outbox.get(id))?.status).toBe("sent");
  const files = completed();
  expect(files.length).toBe(1);
  expect(files[0]?.name).toBe("ap_test-output.txt");
  expect(files[0]?.thread_ts).toBe(parent);
  expect(new TextDecoder().decode(files[0]?.content) === CONTENT).toBe(true);
  const msg = emu.botMessages(CH).find((m) => m.files?.length);
  expect(msg?.thread_ts).toBe(parent);
  expect(msg?.text).toBe("Full output of ap_test");
});

test("uncertain: shared but no answer (timeout) → found in the thread, not uploaded again", async () => {
  const { parent, log } = await setup(300);
  emu.fault("files.completeUploadExternal", { executeThenHang: true, times: 1 });
  const id = await queueUpload(parent);
  await settled(id);
  expect((await store.outbox.get(id))?.status).toBe("sent");
  expect((await store.outbox.get(id))?.attempts).toBe(2);
  expect(completed().length).toBe(1);
  expect(emu.botMessages(CH).filter((m) => m.files?.length).length).toBe(1);
  expect(log.lines.some((l) => l.msg.includes("already in Slack"))).toBe(true);
});

test("uncertain: no answer before the file was shared → uploaded again, exactly one file", async () => {
  const { parent } = await setup(300);
  emu.fault("files.getUploadURLExternal", { latencyMs: 800, times: 1 });
  const id = await queueUpload(parent);
  await settled(id);
  expect((await store.outbox.get(id))?.status).toBe("sent");
  expect(completed().length).toBe(1);
  expect(new TextDecoder().decode(completed()[0]?.content) === CONTENT).toBe(true);
});

test("refused (missing_scope): the content goes as numbered messages, whole", async () => {
  const { parent } = await setup();
  emu.fault("files.getUploadURLExternal", { error: "missing_scope" });
  const id = await queueUpload(parent);
  await settled(id);
  expect((await store.outbox.get(id))?.status).toBe("suppressed");
  expect((await store.outbox.get(id))?.lastError).toContain("missing_scope");
  const parts = await waitFor(() => {
    const ps = emu
      .botMessages(CH)
      .filter((m) => m.thread_ts === parent)
      .map((m) => /^Output of ap_test, part (\d+)\/(\d+):\n```\n([\s\S]*)\n```$/.exec(m.text))
      .filter((m): m is RegExpExecArray => !!m);
    return ps.length > 0 && ps.length === Number(ps[0]?.[2]) ? ps : undefined;
  }, "all parts");
  expect(parts.length).toBeGreaterThan(50);
  const joined = parts.map((p) => unescapeSlack(p[3] ?? "")).join("").replace(/``\u200b`/g, "```");
  expect(joined === CONTENT).toBe(true);
  expect(completed().length).toBe(0);
}, 20_000);
