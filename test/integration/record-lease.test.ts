// A fresh event is recorded already leased to the pipeline that will answer it: answering it
// then takes no claim (no write, no read back), and from its first moment in the store no
// other process (replay, another instance) can take it.
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, expect, test } from "bun:test";
import type { StoreTx } from "../../src/core/store.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { storeLocation } from "../../src/store/index.ts";
import { cleanup, type InProcessBot, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

let emu: SlackEmulator;
let dir: string;
let bot: InProcessBot | null;

beforeEach(async () => {
  emu = await startEmulator();
  dir = tempDir();
  bot = null;
});
afterEach(async () => {
  await bot?.stop();
  await emu.stop();
  cleanup(dir);
});

/** Counts event claims made through the store's transactions (the pipeline claims in one) and outside them. */
function countClaims(b: InProcessBot): { claims: number } {
  const counter = { claims: 0 };
  const store = b.rt.store;
  const wrap = (t: StoreTx): StoreTx => ({
    ...t,
    events: {
      ...t.events,
      claim: (...a) => {
        counter.claims++;
        return t.events.claim(...a);
      },
    },
  });
  const tx = store.tx.bind(store);
  store.tx = (fn) => tx((t) => fn(wrap(t)));
  const claim = store.events.claim.bind(store.events);
  (store.events as { claim: typeof claim }).claim = (...a) => {
    counter.claims++;
    return claim(...a);
  };
  return counter;
}

test("a fresh DM is recorded leased to the bot and answered without a claim", async () => {
  bot = await startBot(emu, {}, dir);
  await waitFor(() => emu.openConnections() === 1, "the bot's socket");
  const counter = countClaims(bot);
  const d = emu.dm("ULEASE", "hello lease");
  await waitFor(() => emu.botMessages().some((m) => m.text.includes("hello lease")), "the answer");
  expect(counter.claims).toBe(0);
  const db = new Database(storeLocation({ dataDir: dir }), { readonly: true });
  const row = db.query("SELECT status, lease_owner AS owner, lease_until AS until, received_at AS at FROM events WHERE key = ?").get(`msg:${d.channel}:${d.ts}`) as {
    status: string;
    owner: string | null;
    until: number | null;
    at: number;
  };
  db.close();
  expect(row.status).toBe("answered");
  expect(row.owner).toMatch(/:\d+$/);
  // Leased from the moment it was recorded, for the agent's timeout and more.
  expect((row.until ?? 0) - row.at).toBeGreaterThan(60_000);
  expect(emu.botMessages().filter((m) => m.text.includes("hello lease"))).toHaveLength(1);
});
