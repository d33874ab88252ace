// Jobs asked for by agents: the command agent's `exec` and the Anthropic agent's
// run_command tool become cards; the Anthropic conversation continues with the result.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { type InProcessBot, cleanup, spawnBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { type AnthropicStandIn, startAnthropicStandIn } from "../stand-ins/anthropic.ts";
import { APPROVER, STRANGER, currentCard, hasButtons, lines, waitCard } from "./approvals-helpers.ts";

const CH = "CJOBS";
let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;
let standIn: AnthropicStandIn | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await emu?.stop();
  emu = undefined;
  standIn?.stop();
  standIn = undefined;
  for (const d of dirs.splice(0)) cleanup(d);
});

async function setup(env: Record<string, string>) {
  emu = await startEmulator();
  emu.addChannel(CH, { botMember: true });
  const dir = tempDir();
  dirs.push(dir);
  bot = await startBot(emu, { CLAWDBOT_APPROVERS: APPROVER, ...env }, dir);
  await waitFor(async () => (await bot?.rt.snapshot())?.connected, "connected");
  return { e: emu, dir };
}

describe.skipIf(process.platform === "win32")("jobs from agents", () => {
  test("command agent: exec in its JSON answer becomes a card; approve runs it", async () => {
    const scripts = tempDir();
    dirs.push(scripts);
    const agent = join(scripts, "agent.sh");
    writeFileSync(
      agent,
      `#!/bin/sh\ncat > /dev/null\nprintf '%s' '{"reply":"I will check the disk.","exec":{"command":"echo disk-ok >> agent-runs.txt","reason":"disk check"}}'\n`,
    );
    chmodSync(agent, 0o755);
    const { e, dir } = await setup({ CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: agent });
    const m = e.mention(STRANGER, CH, "how is the disk?");
    await waitFor(() => e.botMessages(CH).find((x) => x.text.includes("I will check the disk.")), "the agent's reply");
    const { card, id } = await waitCard(e, CH);
    expect(card.thread_ts).toBe(m.ts);
    expect(JSON.stringify(card.blocks)).toContain("disk check");
    expect(JSON.stringify(card.blocks)).toContain("echo disk-ok >> agent-runs.txt");
    e.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(async () => (await bot?.rt.store.approvals.get(id))?.status === "succeeded", "ran");
    // The result goes to the thread the card is in (the mention's), not under the card.
    await waitFor(() => e.botMessages(CH).find((x) => x.thread_ts === m.ts && x.text.includes("exit 0")), "result in the thread");
    expect(lines(join(dir, "agent-runs.txt"))).toBe(1);
  });

  test("anthropic agent: run_command → card → approve → tool_result sent back → final answer in the thread; usage recorded", async () => {
    standIn = startAnthropicStandIn();
    standIn.script([
      {
        toolUse: { name: "run_command", input: { command: "echo tool-output-42", reason: "to see the number" }, id: "toolu_1" },
        text: "Let me run that.",
        usage: { input_tokens: 100, output_tokens: 20 },
      },
      { text: "The number is 42.", usage: { input_tokens: 150, output_tokens: 8 } },
    ]);
    const { e, dir } = await setup({ ANTHROPIC_API_KEY: "sk-ant-test-key-123456", ANTHROPIC_BASE_URL: standIn.baseURL, CLAWDBOT_MODEL: "claude-test" });
    const m = e.mention(STRANGER, CH, "what number does the command print?");
    const { card, id } = await waitCard(e, CH);
    expect(card.thread_ts).toBe(m.ts);
    expect(JSON.stringify(card.blocks)).toContain("echo tool-output-42");
    expect(e.botMessages(CH).some((x) => x.thread_ts === m.ts && x.text.includes("Let me run that."))).toBe(true);

    e.click(APPROVER, CH, card.ts, "approval_approve", id);
    const final = await waitFor(() => e.botMessages(CH).find((x) => x.text.includes("The number is 42.")), "final answer");
    expect(final.thread_ts).toBe(m.ts);
    await waitFor(() => !hasButtons(currentCard(e, CH, card.ts)) || undefined, "card updated");

    expect(standIn.requests.length).toBe(2);
    const second = standIn.requests[1]?.body;
    const last = second?.messages.at(-1) as { role: string; content: { type: string; tool_use_id: string; content: string; is_error: boolean }[] };
    expect(last.role).toBe("user");
    expect(last.content[0]).toMatchObject({ type: "tool_result", tool_use_id: "toolu_1", is_error: false });
    expect(last.content[0]?.content).toContain("tool-output-42");
    // This SDK version authenticates with a bearer header; older ones use x-api-key.
    const h = standIn.requests[0]?.headers ?? {};
    expect(h["x-api-key"] ?? h.authorization).toContain("sk-ant-test-key-123456");

    await bot?.stop();
    bot = undefined;
    const dump = await spawnBot(["state", "dump", "--json", "--db", join(dir, "clawdbot.db")], {});
    expect(await dump.exited).toBe(0);
    const usage = (JSON.parse(dump.output()) as { usage: Record<string, unknown>[] }).usage;
    expect(usage).toContainEqual(expect.objectContaining({ provider: "anthropic", calls: 2, input_tokens: 250, output_tokens: 28 }));
    expect(dump.output()).not.toContain("sk-ant-test-key");
  }, 30_000);

  test("anthropic agent: a job's output goes back to the model redacted (the bot's token and API key never reach it)", async () => {
    const apiKey = "plain-api-key-0123456789"; // no sk-ant- prefix: only the configured value can catch it
    standIn = startAnthropicStandIn();
    standIn.script([
      { toolUse: { name: "run_command", input: { command: "cat leaked.env", reason: "to read the settings" }, id: "toolu_2" }, text: "Reading." },
      { text: "Done reading." },
    ]);
    const e0 = await startEmulator();
    emu = e0;
    e0.addChannel(CH, { botMember: true });
    const dir = tempDir();
    dirs.push(dir);
    writeFileSync(join(dir, "leaked.env"), `SLACK_BOT_TOKEN=${e0.options.botToken}\nANTHROPIC_API_KEY=${apiKey}\nplain line 77\n`);
    bot = await startBot(e0, { CLAWDBOT_APPROVERS: APPROVER, CLAWDBOT_EXEC_CWD: dir, ANTHROPIC_API_KEY: apiKey, ANTHROPIC_BASE_URL: standIn.baseURL }, dir);
    await waitFor(async () => (await bot?.rt.snapshot())?.connected, "connected");
    e0.mention(STRANGER, CH, "what are the settings?");
    const { card, id } = await waitCard(e0, CH);
    e0.click(APPROVER, CH, card.ts, "approval_approve", id);
    await waitFor(() => e0.botMessages(CH).find((x) => x.text.includes("Done reading.")), "final answer");
    const sent = JSON.stringify(standIn.requests[1]?.body.messages.at(-1));
    expect(sent).toContain("plain line 77");
    expect(sent).toContain("[redacted]");
    expect(sent).not.toContain(apiKey);
    expect(sent).not.toContain(e0.options.botToken);
  }, 30_000);
});
