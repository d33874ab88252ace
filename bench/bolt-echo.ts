// The raw @slack/bolt echo app bench/throughput.ts measures clawdbot against: bolt's own
// Socket Mode receiver, one listener, no store, no outbox. bench/throughput.ts compiles it
// with `bun build --compile` (as build.ts builds clawdbot) and points it at the emulator
// through SLACK_BOT_TOKEN, SLACK_APP_TOKEN and SLACK_API_URL.
import { App, LogLevel } from "@slack/bolt";

const env = process.env;
const app = new App({
  token: env.SLACK_BOT_TOKEN,
  appToken: env.SLACK_APP_TOKEN,
  socketMode: true,
  clientOptions: { slackApiUrl: env.SLACK_API_URL },
  logLevel: LogLevel.ERROR,
});
app.message(async ({ message, say }) => {
  await say(`echo: ${(message as { text?: string }).text ?? ""}`);
});
await app.start();
console.log("bolt echo ready");
// A graceful exit, as clawdbot's: a CPU profile (--profile) is written at exit.
process.on("SIGTERM", () => void app.stop().finally(() => process.exit(0)));
