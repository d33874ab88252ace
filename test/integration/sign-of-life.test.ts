// The user sees within a second that the bot took the message up: a thread status where the
// answer goes into a thread, a reaction on a top-level DM, a working line for a /claw question;
// cleared when the answer is sent, a distinct mark on an agent error; best effort throughout.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PAUSED_NOTICE } from "../../src/core/pipeline.ts";
import { ERROR_REACTION, SLASH_WORKING, STATUS_TEXT, WORKING_REACTION } from "../../src/core/sign-of-life.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

const CH = "CSIGN";
let emu: SlackEmulator;
let bot: InProcessBot | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await emu?.stop();
  for (const d of dirs.splice(0)) cleanup(d);
});

/** A command agent that takes `seconds` (the test's "slow agent"), then answers or fails. */
function agentScript(seconds: number, outcome: "answer" | "fail" = "answer"): string {
  const dir = tempDir();
  dirs.push(dir);
  const path = join(dir, "agent.sh");
  const tail = outcome === "answer" ? "echo 'the slow answer'" : "echo 'model unavailable' >&2; exit 3";
  writeFileSync(path, `#!/bin/sh\ncat > /dev/null\nsleep ${seconds}\n${tail}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function setup(agent: string, extra: Record<string, string> = {}) {
  emu = await startEmulator();
  emu.addChannel(CH, { members: ["U1"] });
  const dir = tempDir();
  dirs.push(dir);
  bot = await startBot(emu, { CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: agent, CLAWDBOT_ADMINS: "UADMIN", ...extra }, dir);
  await waitFor(async () => (await bot?.rt.snapshot())?.connected, "connected");
  return emu;
}

const answers = (e: SlackEmulator, ch: string) => e.botMessages(ch).filter((m) => m.text.includes("the slow answer"));

describe.skipIf(process.platform === "win32")("sign of life", () => {
  test("a slow agent: the DM gets a reaction within 1 s, the answer comes once, then the reaction goes", async () => {
    const e = await setup(agentScript(1.5));
    const sent = Date.now();
    const d = e.dm("U1", "a slow question");
    const shown = await waitFor(() => e.reactionLog.find((r) => r.action === "add" && r.ts === d.ts), "the reaction");
    expect(shown.name).toBe(WORKING_REACTION);
    expect(shown.at - sent).toBeLessThan(1000);
    expect(answers(e, d.channel)).toHaveLength(0); // the agent is still working
    await waitFor(() => answers(e, d.channel).length === 1, "the answer");
    await waitFor(() => e.reactions(d.channel, d.ts).length === 0, "the reaction removed");
    expect(e.reactionLog.map((r) => `${r.action} ${r.name}`)).toEqual([`add ${WORKING_REACTION}`, `remove ${WORKING_REACTION}`]);
    expect(answers(e, d.channel)).toHaveLength(1);
  });

  test("a mention is answered in its thread: the thread shows a status within 1 s, cleared once the answer is there", async () => {
    const e = await setup(agentScript(1));
    const sent = Date.now();
    const m = e.mention("U1", CH, "a slow question");
    const status = await waitFor(() => e.statuses.find((s) => s.thread_ts === m.ts), "the thread status");
    expect(status.status).toBe(STATUS_TEXT);
    expect(status.at - sent).toBeLessThan(1000);
    expect(e.threadStatus(CH, m.ts)).toBe(STATUS_TEXT);
    await waitFor(() => answers(e, CH).length === 1, "the answer");
    expect(answers(e, CH)[0]?.thread_ts).toBe(m.ts);
    await waitFor(() => e.statuses.at(-1)?.status === "", "the status cleared");
    expect(e.threadStatus(CH, m.ts)).toBe("");
    expect(e.reactionLog).toHaveLength(0);
  });

  test("an agent error: the working reaction is replaced by a warning one, and the error reply comes once", async () => {
    const e = await setup(agentScript(0.2, "fail"));
    const d = e.dm("U1", "this will fail");
    await waitFor(() => e.botMessages(d.channel).find((m) => m.text.includes("couldn't get an answer")), "the error reply");
    await waitFor(() => e.reactions(d.channel, d.ts).some((r) => r.name === ERROR_REACTION), "the error mark");
    expect(e.reactions(d.channel, d.ts).map((r) => r.name)).toEqual([ERROR_REACTION]);
    expect(e.botMessages(d.channel)).toHaveLength(1);
  });

  test("a /claw question gets a working line through its response_url; /claw help gets none", async () => {
    const e = await setup(agentScript(0.5));
    e.slash("U1", CH, "why is the sky blue?");
    await waitFor(() => e.responses.find((r) => r.body.text === SLASH_WORKING), "the working line");
    await waitFor(() => answers(e, CH).length === 1, "the answer");
    e.slash("U1", CH, "help");
    await waitFor(() => e.responses.find((r) => String(r.body.text).includes("/claw exec")), "the help text");
    expect(e.responses.filter((r) => r.body.text === SLASH_WORKING)).toHaveLength(1);
  });

  test("no sign for a message received while paused: it gets the notice only", async () => {
    const e = await setup(agentScript(0));
    e.slash("UADMIN", CH, "pause");
    await waitFor(async () => await bot?.rt.store.settings.isPaused(), "paused");
    const d = e.dm("U1", "anyone there?");
    await waitFor(() => e.botMessages(d.channel).find((m) => m.text === PAUSED_NOTICE), "the notice");
    expect(e.reactionLog).toHaveLength(0);
    expect(e.statuses).toHaveLength(0);
  });

  test("a sign Slack refuses delays nothing: a failing status falls back to the reaction, a failing reaction to nothing", async () => {
    const e = await setup(agentScript(0.3));
    e.fault("assistant.threads.setStatus", { error: "missing_scope" });
    const m = e.mention("U1", CH, "first");
    await waitFor(() => e.reactionLog.find((r) => r.ts === m.ts && r.action === "add"), "the fallback reaction");
    await waitFor(() => answers(e, CH).length === 1, "the first answer");
    e.fault("reactions.add", { error: "ratelimited", status: 429, retryAfter: 30 });
    const d = e.dm("U1", "second");
    await waitFor(() => answers(e, d.channel).length === 1, "the second answer");
    expect(e.reactions(d.channel, d.ts)).toHaveLength(0);
    // Not retried like a reply: one attempt each.
    expect(e.calls.filter((c) => c.method === "reactions.add" && c.args.timestamp === d.ts)).toHaveLength(1);
  });
});
