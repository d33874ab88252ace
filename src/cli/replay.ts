import { defineCommand } from "citty";
import { CliExit } from "./exit.ts";

export default defineCommand({
  meta: { name: "replay", description: "Deliver what was never delivered (pending/failed outbox, unanswered events)" },
  args: {
    "dry-run": { type: "boolean", description: "list what would be delivered; send nothing" },
    id: { type: "string", description: "only this outbox id or event key" },
    json: { type: "boolean", description: "print JSON" },
  },
  async run() {
    throw new CliExit(1, "replay: not implemented yet");
  },
});
