// A fresh event is recorded already leased to the pipeline that will answer it: answering it
// takes no claim of its own (no write, no read back; the answer's transaction renews the
// lease as it commits), and from its first moment in the store no other process (replay,
// another instance) can take it.
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

/** For each transaction of the store (the pipeline's go through them): whether it claimed an event, and whether it answered one. */
function watchTransactions(b: InProcessBot): { claimed: boolean; answered: boolean }[] {
  const seen: { claimed: boolean; answered: boolean }[] = [];
  const store = b.rt.store;
  const wrap = (t: StoreTx, mark: { claimed: boolean; answered: boolean }): StoreTx => ({
    ...t,
    events: {
      ...t.events,
      claim: (...a) => {
        mark.claimed = true;
        return t.events.claim(...a);
      },
      setStatus: (key, status, ...rest) => {
        if (status === "answered") mark.answered = true;
        return t.events.setStatus(key, status, ...rest);
      },
    },
  });
  const tx = store.tx.bind(store);
  store.tx = (fn) => {
    const mark = { claimed: false, answered: false };
    seen.push(mark);
    return tx((t) => fn(wrap(t, mark)));
  };
  return seen;
}

test("a fresh DM is recorded leased to the bot and answered without a claim of its own (the answer renews the lease in its transaction)", async () => {
  bot = await startBot(emu, {}, dir);
  await waitFor(() => emu.openConnections() === 1, "the bot's socket");
  const transactions = watchTransactions(bot);
  const d = emu.dm("ULEASE", "hello lease");
  await waitFor(() => emu.botMessages().some((m) => m.text.includes("hello lease")), "the answer");
  expect(transactions.some((x) => x.claimed && x.answered)).toBe(true);
  expect(transactions.filter((x) => x.claimed && !x.answered)).toEqual([]);
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
