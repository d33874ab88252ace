// `clawdbot replay`: delivers what was never delivered, with the bot's own classes, so a
// running bot and a replay compete through the same claims and leases: one of them wins
// each item and nothing is sent twice.
import type { Clock } from "./clock.ts";
import type { OutboxSender } from "./outbox-sender.ts";
import type { Pipeline } from "./pipeline.ts";
import type { InboundEvent, OutboxItem, Store } from "./store.ts";

/** What replay delivers: undelivered outbox items and unanswered events. */
export interface Work {
  outbox: OutboxItem[];
  events: InboundEvent[];
}

export interface ReplayItem {
  type: "outbox" | "event";
  id: string;
  status: string;
  channel: string | null;
  text: string;
  last_error?: string | null;
}

export interface ReplaySummary {
  dry_run: boolean;
  items: ReplayItem[];
  delivered: number;
  answered: number;
  /** Outbox ids and event keys still not delivered when replay gave up. */
  not_delivered: string[];
}

/** What replay would deliver: all of it, or the one outbox id / event key asked for. */
export async function selectWork(store: Store, id?: string): Promise<Work> {
  let outbox = await store.outbox.undelivered(100_000);
  let events = await store.events.unanswered(100_000);
  if (id !== undefined) {
    outbox = /^\d+$/.test(id) ? outbox.filter((r) => r.id === Number(id)) : [];
    events = events.filter((e) => e.key === id);
  }
  return { outbox, events };
}

export function describe(work: Work): ReplayItem[] {
  return [
    ...work.outbox.map((r) => ({
      type: "outbox" as const,
      id: String(r.id),
      status: r.status,
      channel: r.channel,
      text: r.text.slice(0, 200),
      last_error: r.lastError,
    })),
    ...work.events.map((e) => ({ type: "event" as const, id: e.key, status: e.status, channel: e.channel, text: (e.text ?? "").slice(0, 200) })),
  ];
}

export interface ReplayParts {
  store: Store;
  pipeline: Pipeline;
  outbox: OutboxSender;
  clock: Clock;
  deadlineMs: number;
}

/**
 * Answers the events, requeues failed replies, then sends everything selected plus the
 * replies the answers produced, until all are delivered or the deadline passes.
 */
export async function replay(parts: ReplayParts, work: Work): Promise<ReplaySummary> {
  const { store, pipeline, outbox } = parts;
  const { clock } = parts;
  const deadline = clock.mono() + parts.deadlineMs;
  for (const r of work.outbox) {
    if (r.status === "failed") await store.outbox.requeue(r.id, clock.now());
    else if (r.status === "pending") await store.outbox.dueNow(r.id, clock.now());
  }
  const keys = work.events.map((e) => e.key);
  await Promise.all(keys.map((k) => pipeline.process(k)));
  // An event the running bot holds is its to answer: wait for that, then send its replies.
  const unanswered = await waitForAnswers(store, keys, deadline, clock);
  const produced = await Promise.all(keys.map((k) => store.outbox.idsForEvent(k)));
  const ids = [...new Set([...work.outbox.map((r) => r.id), ...produced.flat()])];
  const left = await outbox.deliverNow(ids, deadline);
  return {
    dry_run: false,
    items: describe(work),
    delivered: ids.length - left.length,
    answered: keys.length - unanswered.length,
    not_delivered: [...left.map(String), ...unanswered],
  };
}

async function waitForAnswers(store: Store, keys: string[], deadline: number, clock: Clock): Promise<string[]> {
  for (;;) {
    const open: string[] = [];
    for (const k of keys) if ((await store.events.get(k))?.status === "received") open.push(k);
    if (open.length === 0 || clock.mono() >= deadline) return open;
    await new Promise((r) => setTimeout(r, 50));
  }
}
