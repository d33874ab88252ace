// The outbox sender takes the items an answer just committed straight from the pipeline:
// sent in order per conversation, channels in parallel, without reading the due list again
// for each message; what another sender holds is left alone; a rate limit holds its channel.
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { systemClock } from "../../src/core/clock.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { OutboxSender } from "../../src/core/outbox-sender.ts";
import type { Store } from "../../src/core/store.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { WebPort } from "../../src/slack/web-port.ts";
import { openStore } from "../../src/store/index.ts";
import { cleanup, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

const A = "CHANDA";
const B = "CHANDB";
let emu: SlackEmulator;
let store: Store;
let sender: OutboxSender;
let dir: string;
let dueReads: number;

afterEach(async () => {
  await sender?.stop(1000);
  await store?.close();
  await emu?.stop();
  cleanup(dir);
});

async function setup() {
  emu = await startEmulator();
  for (const c of [A, B]) emu.addChannel(c, { botMember: true });
  dir = tempDir();
  store = await openStore(join(dir, "clawdbot.db"));
  dueReads = 0;
  const due = store.outbox.due.bind(store.outbox);
  (store.outbox as { due: typeof due }).due = (...a) => {
    dueReads++;
    return due(...a);
  };
  const slack = new WebPort(emu.options.botToken, emu.apiUrl);
  sender = new OutboxSender({ store, slack, clock: systemClock, log: memoryLogger(), owner: "test:1", retryInitialMs: 50, retryMaxMs: 500, leaseMs: 10_000 });
}

async function queue(channel: string, texts: string[]): Promise<number[]> {
  return store.tx(async (t) => {
    const ids: number[] = [];
    for (const text of texts) ids.push(await t.outbox.enqueue({ op: "post", channel, text }, Date.now()));
    return ids;
  });
}

const texts = (channel: string) => emu.botMessages(channel).map((m) => m.text);

test("handed-over items are sent in order per channel, without reading the due list", async () => {
  await setup();
  const a = await queue(A, ["a1", "a2", "a3"]);
  const b = await queue(B, ["b1", "b2"]);
  sender.kick({ channel: A, ids: a });
  sender.kick({ channel: B, ids: b });
  const more = await queue(A, ["a4"]);
  sender.kick({ channel: A, ids: more });
  await waitFor(() => texts(A).length === 4 && texts(B).length === 2, "six posts");
  expect(texts(A)).toEqual(["a1", "a2", "a3", "a4"]);
  expect(texts(B)).toEqual(["b1", "b2"]);
  expect(dueReads).toBe(0);
  await waitFor(async () => (await store.outbox.counts()).sent === 6, "all marked sent");
});

test("an item another sender holds is not sent; the rest of its channel is", async () => {
  await setup();
  const ids = await queue(A, ["taken", "mine"]);
  expect(await store.outbox.claim(ids[0] as number, "replay:2", Date.now(), Date.now() + 60_000)).not.toBeNull();
  sender.kick({ channel: A, ids });
  await waitFor(() => texts(A).includes("mine"), "the free item sent");
  expect(texts(A)).toEqual(["mine"]);
  expect((await store.outbox.get(ids[0] as number))?.status).toBe("sending");
});

test("a rate limit holds its channel's handed-over items for Retry-After, then they go in order; other channels go on", async () => {
  await setup();
  emu.fault("chat.postMessage", { status: 429, retryAfter: 1, times: 1, channel: A });
  const a = await queue(A, ["a1", "a2"]);
  const b = await queue(B, ["b1"]);
  const started = Date.now();
  sender.kick({ channel: A, ids: a });
  sender.kick({ channel: B, ids: b });
  await waitFor(() => texts(B).length === 1, "the other channel's post");
  expect(texts(A)).toEqual([]);
  await waitFor(() => texts(A).length === 2, "the held channel's posts");
  expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  expect(texts(A)).toEqual(["a1", "a2"]);
});

test("kicked without items, the sender reads what is due", async () => {
  await setup();
  await queue(B, ["found"]);
  sender.kick();
  await waitFor(() => texts(B).length === 1, "the post found by reading the store");
  expect(dueReads).toBeGreaterThan(0);
});

test("an item claimed in the transaction that queued it is sent without a transaction of its own for the claim", async () => {
  await setup();
  const queued = await store.tx(async (t) => {
    const id = await t.outbox.enqueue({ op: "post", channel: A, text: "claimed with the answer" }, Date.now());
    return sender.claimInto(t, { channel: A, ids: [id] });
  });
  expect(queued.claimed).toMatchObject({ status: "sending", attempts: 1 });
  let transactions = 0;
  const tx = store.tx.bind(store);
  store.tx = (fn) => {
    transactions++;
    return tx(fn);
  };
  sender.kick(queued);
  await waitFor(async () => (await store.outbox.counts()).sent === 1, "sent and marked sent");
  expect(texts(A)).toEqual(["claimed with the answer"]);
  // The sent mark only.
  expect(transactions).toBe(1);
});

test("nothing is claimed with the answer while its channel is busy; it goes after the one on its way", async () => {
  await setup();
  emu.fault("chat.postMessage", { latencyMs: 300, times: 1, channel: A });
  const first = await queue(A, ["first"]);
  sender.kick({ channel: A, ids: first });
  await waitFor(async () => (await store.outbox.get(first[0] as number))?.status === "sending", "the first on its way");
  const queued = await store.tx(async (t) => {
    const id = await t.outbox.enqueue({ op: "post", channel: A, text: "second" }, Date.now());
    return sender.claimInto(t, { channel: A, ids: [id] });
  });
  expect(queued.claimed).toBeUndefined();
  sender.kick(queued);
  await waitFor(() => texts(A).length === 2, "both posts");
  expect(texts(A)).toEqual(["first", "second"]);
});
