// Without a relay, the agent gets the Slack thread as context (file turns included).
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

test("a mention inside a thread carries the thread so far; a top-level one fetches nothing", async () => {
  const emu = await startEmulator();
  emu.addChannel("CTHREAD", { botMember: true });
  // The command agent's reply is whatever the command prints: here, its own input.
  const bot = await startBot(emu, { CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: "cat" }, dir);
  // The start-up catch-up behind us: it reads the threads the store knows (this one, once answered).
  await waitFor(async () => (await bot.rt.snapshot()).workers.catchup?.runs, "the start-up catch-up");
  const first = emu.mention("UALICE", "CTHREAD", "first question");
  await waitFor(() => emu.botMessages("CTHREAD").length === 1, "first answer");
  expect(emu.calls.filter((c) => c.method === "conversations.replies")).toHaveLength(0);

  emu.mention("UALICE", "CTHREAD", "follow up", { threadTs: first.ts });
  const second = await waitFor(() => emu.botMessages("CTHREAD").find((m) => m.text.includes("follow up")), "second answer");
  const input = JSON.parse(second.text) as { text: string; context: { role: string; text: string }[] };
  expect(input.text).toBe("follow up");
  expect(input.context.map((c) => c.role)).toEqual(["user", "assistant"]);
  expect(input.context[0]?.text).toBe("first question");
  await bot.stop();
  await emu.stop();
});

test("a file shared in the thread without a word is a turn of the context, by its file names", async () => {
  const emu = await startEmulator();
  emu.addChannel("CFILES", { botMember: true });
  const bot = await startBot(emu, { CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: "cat" }, join(dir, "files"));
  const first = emu.mention("UALICE", "CFILES", "the deploy fails");
  await waitFor(() => emu.botMessages("CFILES").length === 1, "first answer");
  emu.channelMessage("UALICE", "CFILES", "", { threadTs: first.ts, files: [{ name: "deploy.log", content: "error: disk full" }] });
  emu.mention("UALICE", "CFILES", "see the log", { threadTs: first.ts });
  const answer = await waitFor(() => emu.botMessages("CFILES").find((m) => m.text.includes("see the log")), "the answer in the thread");
  const input = JSON.parse(answer.text) as { context: { role: string; text: string }[] };
  expect(input.context.map((c) => c.role)).toEqual(["user", "assistant", "user"]);
  expect(input.context[2]?.text).toBe("[attached: deploy.log]");
  await bot.stop();
  await emu.stop();
});
