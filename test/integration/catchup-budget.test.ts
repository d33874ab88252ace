// Catch-up's cost is bounded: conversations.history is rate limited (about 50 calls a minute),
// so a run makes at most CALLS_PER_RUN calls and the next run, a little later, reads the rest.
import { afterEach, expect, test } from "bun:test";
import { CALLS_PER_RUN } from "../../src/core/catchup.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator | undefined;
let bot: InProcessBot | undefined;
afterEach(async () => {
  await bot?.stop();
  await emu?.stop();
  if (bot) cleanup(bot.dataDir);
  emu = bot = undefined;
});

test("45 DMs missed while away: the first run reads at most its budget, the next the rest; each answered once", async () => {
  emu = await startEmulator();
  const e = emu;
  // Live delivery is withheld: only catch-up can find them.
  e.deafen(true);
  const users = Array.from({ length: 45 }, (_, i) => `UAWAY${String(i).padStart(2, "0")}`);
  for (const u of users) e.dm(u, `missed ${u}`);
  bot = await startBot(e, { CLAWDBOT_CATCHUP_NEXT_RUN_MS: "1500" });
  const history = () => e.calls.filter((c) => c.method === "conversations.history").length;
  const answered = () => users.filter((u) => e.botMessages().some((m) => m.text === `echo: missed ${u}`)).length;
  // users.conversations, then one history call per conversation, within the budget.
  await waitFor(() => answered() === CALLS_PER_RUN - 1, "the first run's answers");
  expect(history()).toBe(CALLS_PER_RUN - 1);
  await waitFor(() => answered() === 45, "the rest, by the next run");
  expect(history()).toBeLessThanOrEqual(2 * (CALLS_PER_RUN - 1));
  e.deafen(false);
  e.dm("UMARKER", "marker");
  await waitFor(() => e.botMessages().some((m) => m.text === "echo: marker"), "marker");
  for (const u of users) expect(e.botMessages().filter((m) => m.text === `echo: missed ${u}`)).toHaveLength(1);
});
