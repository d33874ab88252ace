// Abrupt closes during a stream of DMs: every message is answered exactly once, and the
// bot is processing again shortly after each drop.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator;
let bot: InProcessBot;

beforeAll(async () => {
  // A short ack timeout: an envelope pushed into a dying socket comes back quickly.
  emu = await startEmulator({ ackTimeoutMs: 300 });
  bot = await startBot(emu);
  await waitFor(async () => (await bot.rt.snapshot()).status === "ok", "first connection");
});

afterAll(async () => {
  await bot?.stop();
  await emu?.stop();
  cleanup(bot.dataDir);
});

/** How many echo replies the bot posted for each text. */
function replyCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of emu.botMessages()) {
    const t = m.text.replace(/^echo: /, "");
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
}

test("20 abrupt closes during a DM stream: every message answered exactly once", async () => {
  const sent: string[] = [];
  let streaming = true;
  // The stream: a DM every few ms, whatever the state of the connection.
  const stream = (async () => {
    for (let i = 0; streaming; i++) {
      const text = `stream-${i}`;
      emu.dm("U0STREAM1", text);
      sent.push(text);
      await Bun.sleep(15);
    }
  })();

  const recoveries: number[] = [];
  for (let round = 0; round < 20; round++) {
    await waitFor(async () => emu.openConnections() === 1 && (await bot.rt.snapshot()).connected, `connection before drop ${round}`);
    const droppedAt = Date.now();
    emu.dropSockets();
    // The time to the next message the bot answered that was sent after the close.
    const probe = `probe-${round}`;
    emu.dm("U0PROBE01", probe);
    sent.push(probe);
    await waitFor(() => replyCounts().get(probe), `answer to ${probe}`);
    recoveries.push(Date.now() - droppedAt);
  }
  streaming = false;
  await stream;

  await waitFor(() => {
    const c = replyCounts();
    return sent.every((t) => c.get(t));
  }, "every message answered", 20_000);
  // Late redeliveries and catch-ups must not add a second answer.
  await waitFor(() => emu.envelopes.every((e) => e.acked || e.dropped), "every envelope settled");
  const counts = replyCounts();
  const twice = sent.filter((t) => counts.get(t) !== 1);
  expect(twice).toEqual([]);
  expect(emu.botMessages().length).toBe(sent.length);

  const sorted = [...recoveries].sort((a, b) => a - b);
  console.log(
    `abrupt close → next answered message (ms): ${recoveries.join(", ")}; median ${sorted[10]}, max ${sorted[19]}; messages ${sent.length}`,
  );
  await waitFor(() => emu.openConnections() === 1, "one socket after the drops");
  expect((await bot.rt.snapshot()).reconnects).toBeGreaterThanOrEqual(20);
}, 30_000);
