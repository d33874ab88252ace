// The root command. Subcommands load lazily: `clawdbot health` runs every few minutes
// under Task Scheduler and must not pay for Slack, Elysia or SQLite imports.
import { defineCommand } from "citty";
import { VERSION } from "../version.ts";

export const cli = defineCommand({
  meta: { name: "clawdbot", version: VERSION, description: "A Slack bot that relays to an AI agent and runs approved jobs." },
  subCommands: {
    run: () => import("./run.ts").then((m) => m.default),
    health: () => import("./health.ts").then((m) => m.default),
    state: () => import("./state.ts").then((m) => m.default),
    replay: () => import("./replay.ts").then((m) => m.default),
    sandbox: () => import("./sandbox.ts").then((m) => m.default),
    doctor: () => import("./doctor.ts").then((m) => m.default),
    manifest: () => import("./manifest.ts").then((m) => m.default),
    logs: () => import("./logs.ts").then((m) => m.default),
    task: () => import("./task.ts").then((m) => m.default),
  },
});
