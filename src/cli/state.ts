// `clawdbot state dump`: what the store holds, read-only. Safe while `run` writes: the
// store's read gives this reader one consistent snapshot without blocking the bot.
import { defineCommand } from "citty";
import { type Store, StoreError } from "../core/store.ts";
import { openStore, storeExists } from "../store/index.ts";
import { dbArg, defaultDbPath, instanceTimeoutMs, noStore } from "./_store.ts";

const TEXT_PREVIEW = 200;
const EVENT_STATUSES = ["received", "answered", "ignored", "failed"];

export interface StateDump {
  paused: boolean;
  approvals: {
    id: string;
    kind: string;
    status: string;
    requested_by: string;
    channel: string;
    text: string;
    created_at: string;
    decided_by: string | null;
    decided_at: string | null;
  }[];
  approval_counts: Record<string, number>;
  outbox: {
    pending: number;
    failed: number;
    sent: number;
    suppressed: number;
    items: {
      id: number;
      op: string;
      channel: string;
      thread_ts: string | null;
      status: string;
      attempts: number;
      last_error: string | null;
      created_at: string;
      text: string;
    }[];
  };
  usage: { provider: string; model: string; calls: number; input_tokens: number; output_tokens: number }[];
  events: Record<string, number>;
  /** The processes sharing the store; alive: renewing within CLAWDBOT_INSTANCE_TIMEOUT and not stopped. */
  instances: { id: string; host: string; started_at: string; last_seen_at: string; alive: boolean }[];
  schema_version: number;
  db: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The contract's default CLAWDBOT_INSTANCE_TIMEOUT. */
const INSTANCE_TIMEOUT_MS = 30_000;

/** Everything in one read, so counts and lists agree with each other. */
export async function collectState(store: Store, o: { now?: number; instanceTimeoutMs?: number } = {}): Promise<StateDump> {
  const schemaVersion = await store.schemaVersion();
  const cutoff = (o.now ?? Date.now()) - (o.instanceTimeoutMs ?? INSTANCE_TIMEOUT_MS);
  return store.read(async (t) => {
    const outboxCounts = await t.outbox.counts();
    return {
      paused: await t.settings.isPaused(),
      approvals: (await t.approvals.list()).map((a) => ({
        id: a.id,
        kind: a.kind,
        status: a.status,
        requested_by: a.requestedBy,
        channel: a.channel,
        text: a.text,
        created_at: iso(a.createdAt) as string,
        decided_by: a.decidedBy,
        decided_at: iso(a.decidedAt),
      })),
      approval_counts: await t.approvals.countByStatus(),
      outbox: {
        ...outboxCounts,
        items: (await t.outbox.undelivered()).map((o) => ({
          id: o.id,
          op: o.op,
          channel: o.channel,
          thread_ts: o.threadTs,
          status: o.status,
          attempts: o.attempts,
          last_error: o.lastError,
          created_at: iso(o.createdAt) as string,
          text: o.text.slice(0, TEXT_PREVIEW),
        })),
      },
      usage: (await t.usage.summary()).map((u) => ({
        provider: u.provider,
        model: u.model,
        calls: u.calls,
        input_tokens: u.inputTokens ?? 0,
        output_tokens: u.outputTokens ?? 0,
      })),
      events: { ...Object.fromEntries(EVENT_STATUSES.map((s) => [s, 0])), ...(await t.events.counts()) },
      instances: (await t.instances.list()).map((i) => ({
        id: i.id,
        host: i.host,
        started_at: iso(i.startedAt) as string,
        last_seen_at: iso(i.lastSeenAt) as string,
        alive: i.stoppedAt === null && i.takenOverBy === null && i.lastSeenAt >= cutoff,
      })),
      schema_version: schemaVersion,
      db: store.location,
    };
  });
}

// --- text layout ---

function cell(v: unknown, max = 48): string {
  const s = v === null || v === undefined ? "-" : String(v).replace(/\s+/g, " ");
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** Left-aligned columns, two spaces apart, indented under a section title. */
function table(headers: string[], rows: unknown[][]): string[] {
  const cells = [headers, ...rows.map((r) => r.map((v) => cell(v)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => "  " + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd());
}

const shortTime = (s: string | null) => (s ? s.replace("T", " ").replace(/\.\d+Z$/, "Z") : null);

export function renderState(d: StateDump): string {
  const out: string[] = [`clawdbot state: ${d.db} (schema v${d.schema_version})`, ""];

  out.push("Kill switch", `  ${d.paused ? "PAUSED: messages get a paused notice, no agent, no jobs" : "off (answering)"}`, "");

  const counts = Object.entries(d.approval_counts).map(([s, n]) => `${n} ${s}`).join(", ");
  out.push(`Approvals${counts ? `: ${counts}` : ""}`);
  if (d.approvals.length === 0) out.push("  none");
  else
    out.push(
      ...table(
        ["ID", "KIND", "STATUS", "REQUESTED_BY", "CHANNEL", "CREATED", "DECIDED_BY", "DECIDED", "TEXT"],
        d.approvals.map((a) => [a.id, a.kind, a.status, a.requested_by, a.channel, shortTime(a.created_at), a.decided_by, shortTime(a.decided_at), a.text]),
      ),
    );
  out.push("");

  const o = d.outbox;
  out.push(`Outbox: ${o.pending} pending, ${o.failed} failed, ${o.sent} sent, ${o.suppressed} suppressed`);
  if (o.items.length === 0) out.push("  nothing undelivered");
  else
    out.push(
      ...table(
        ["ID", "OP", "CHANNEL", "THREAD", "STATUS", "TRIES", "CREATED", "LAST_ERROR", "TEXT"],
        o.items.map((i) => [i.id, i.op, i.channel, i.thread_ts, i.status, i.attempts, shortTime(i.created_at), i.last_error, i.text]),
      ),
    );
  out.push("");

  out.push("Usage");
  if (d.usage.length === 0) out.push("  none recorded");
  else
    out.push(
      ...table(
        ["PROVIDER", "MODEL", "CALLS", "INPUT_TOKENS", "OUTPUT_TOKENS"],
        d.usage.map((u) => [u.provider, u.model, u.calls, u.input_tokens, u.output_tokens]),
      ),
    );
  out.push("");

  out.push("Events");
  out.push(...table(["STATUS", "COUNT"], Object.entries(d.events).map(([s, n]) => [s, n])));
  out.push("");

  out.push(`Instances: ${d.instances.filter((i) => i.alive).length} alive`);
  if (d.instances.length === 0) out.push("  none on record");
  else
    out.push(
      ...table(
        ["ID", "HOST", "STARTED", "LAST_SEEN", "ALIVE"],
        d.instances.map((i) => [i.id, i.host, shortTime(i.started_at), shortTime(i.last_seen_at), i.alive ? "yes" : "no"]),
      ),
    );
  return out.join("\n");
}

// --- command ---

const dump = defineCommand({
  meta: { name: "dump", description: "Print the store's state (read-only; safe while clawdbot run is running)." },
  args: {
    json: { type: "boolean", description: "one JSON object instead of tables", default: false },
    ...dbArg,
  },
  async run({ args }) {
    const path = args.db || defaultDbPath();
    if (!storeExists(path)) {
      throw noStore(path);
    }
    let state: StateDump;
    let store: Store | undefined;
    try {
      store = await openStore(path, { readonly: true });
      state = await collectState(store, { instanceTimeoutMs: instanceTimeoutMs() });
    } catch (err) {
      throw noStore(path, err instanceof StoreError ? `it ${err.problem}` : err instanceof Error ? err.message : String(err));
    } finally {
      await store?.close();
    }
    console.log(args.json ? JSON.stringify(state, null, 2) : renderState(state));
  },
});

export default defineCommand({
  meta: { name: "state", description: "Inspect the store." },
  subCommands: { dump },
});
