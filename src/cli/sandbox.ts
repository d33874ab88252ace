import { defineCommand } from "citty";

export default defineCommand({
  meta: { name: "sandbox", description: "Run clawdbot against its built-in Slack emulator with a terminal chat" },
  async run() {
    const { runSandbox } = await import("../sandbox/chat.ts");
    await runSandbox();
  },
});
