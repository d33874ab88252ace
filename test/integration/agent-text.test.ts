// What an agent says reaches Slack escaped and in parts that each render; a card shows the
// command's hidden characters. Asserted on what the emulator received through the real SDK.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { type InProcessBot, cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";
import { APPROVER, STRANGER, unescapeSlack, waitCard } from "./approvals-helpers.ts";

const CH = "CTEXT";
let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await emu?.stop();
  emu = undefined;
  for (const d of dirs.splice(0)) cleanup(d);
});

/** A command agent that answers `answer` (its JSON) to every message. */
async function botAnswering(answer: unknown): Promise<SlackEmulator> {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir, "answer.json");
  writeFileSync(file, JSON.stringify(answer));
  const agent = join(dir, "agent.sh");
  writeFileSync(agent, `#!/bin/sh\ncat > /dev/null\ncat '${file}'\n`);
  chmodSync(agent, 0o755);
  emu = await startEmulator();
  emu.addChannel(CH, { botMember: true });
  bot = await startBot(emu, { CLAWDBOT_APPROVERS: APPROVER, CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: agent }, tempDir());
  dirs.push(bot.dataDir);
  await waitFor(async () => (await bot?.rt.snapshot())?.connected, "connected");
  return emu;
}

describe.skipIf(process.platform === "win32")("agent text in Slack", () => {
  test("a long code answer arrives escaped, never broadcasting, in parts that each close their code block", async () => {
    const code = Array.from({ length: 400 }, (_, i) => `if (a < ${i} && b > 0) { return Promise<void>; } // <!channel> line ${i}`).join("\n");
    const reply = `Use \`Promise<void>\` and #include <stdio.h>; a && b. <!channel> <!here> cc <@UALICE>\n\`\`\`ts\n${code}\n\`\`\`\nDone.`;
    const e = await botAnswering({ reply });
    e.mention(STRANGER, CH, "show me the code");
    const parts = await waitFor(() => {
      const posted = e.botMessages(CH);
      return posted.some((m) => m.text.includes("Done.")) ? posted : undefined;
    }, "every part of the answer");
    expect(parts.length).toBeGreaterThan(2);
    for (const m of parts) {
      expect(m.text.length).toBeLessThanOrEqual(3900);
      expect(m.text).not.toContain("<!");
      expect((m.text.split("```").length - 1) % 2).toBe(0);
    }
    expect(parts[0]?.text).toStartWith("Use `Promise&lt;void&gt;` and #include &lt;stdio.h&gt;; a &amp;&amp; b. &lt;!channel&gt; &lt;!here&gt; cc <@UALICE>");
    // Read back as a person sees it, minus the fences added at the cuts (every cut at a line
    // break, so a closing fence is only "```"), it is what the agent said.
    const seen = parts.map((m, i) => {
      let t = unescapeSlack(m.text);
      if (i > 0) t = t.replace(/^```ts\n/, "");
      if (i < parts.length - 1) t = t.replace(/\n```$/, "\n");
      return t;
    });
    expect(seen.join("")).toBe(reply);
  });

  test("a card shows a zero-width space and U+202E escaped, in its blocks and its notification text", async () => {
    const e = await botAnswering({ reply: "Checking.", exec: { command: "echo checking disk \u200b#; touch x \u202e", reason: "disk <!everyone>" } });
    e.mention(STRANGER, CH, "check the disk");
    const { card } = await waitCard(e, CH);
    const everything = JSON.stringify(card);
    expect(everything).not.toContain("\u200b");
    expect(everything).not.toContain("\u202e");
    expect(everything).not.toContain("<!everyone>");
    expect(JSON.stringify(card.blocks)).toContain("echo checking disk \\\\u200b#; touch x \\\\u202e");
    expect(card.text).toContain("echo checking disk \\u200b#; touch x \\u202e");
  });
});
