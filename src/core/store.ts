// The store as the core sees it: domain records and async methods, nothing of SQL. Every
// backend (store/sqlite, store/postgres) implements this and passes test/store/contract.ts.
//
// Times are milliseconds since the epoch. Fields holding JSON (an outbox item's blocks, an
// approval's resume state, an event's payload) are JSON text: the core parses what it reads.
//
// Transactions: `tx(fn)` runs fn as one transaction on the handle it is given; all of it
// lands or none. Inside fn, call the store only through that handle: a call through the root
// store waits for the transaction to end, so awaiting one inside fn never finishes. Keep fn
// to store calls: nothing slow (Slack, an agent) is awaited while a transaction is open.
// Outside a transaction, each method is atomic on its own.

export type ApprovalKind = "exec" | "code";
export type ApprovalStatus =
  | "pending"
  | "approved"
  | "running"
  | "succeeded"
  | "failed"
  | "denied"
  | "expired"
  | "interrupted";

export interface Approval {
  id: string;
  kind: ApprovalKind;
  text: string;
  reason: string | null;
  status: ApprovalStatus;
  requestedBy: string;
  /** The requester's conversation (and thread): where they hear the outcome. The card's copies are in cards(). */
  channel: string;
  threadTs: string | null;
  eventKey: string | null;
  /** JSON: what the agent keeps to continue after the job (Agent.resume); null if nothing. */
  resume: string | null;
  createdAt: number;
  expiresAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  /** The conversation of the card copy the decision came through. */
  decidedIn: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  output: string | null;
  /** The running job's process id (on POSIX also its process group's id); null before spawn. */
  pid: number | null;
  /** The instance that started the job (see InstancesRepo); null if it never started. */
  runner: string | null;
}

export interface NewApproval {
  id: string;
  kind: ApprovalKind;
  text: string;
  reason?: string;
  requestedBy: string;
  channel: string;
  threadTs?: string;
  eventKey?: string;
  /** Stored as JSON. */
  resume?: unknown;
  expiresAt: number;
  /** Where copies of the card go (one conversation, or each approver's DM); default: channel and threadTs. */
  cards?: { channel: string; threadTs?: string }[];
}

/** One copy of an approval's card: all copies show the same card, a decision updates them all. */
export interface CardCopy {
  channel: string;
  threadTs: string | null;
  /** The card's message, once posted. */
  ts: string | null;
}

export interface TransitionPatch {
  decidedBy?: string;
  decidedAt?: number;
  decidedIn?: string;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number | null;
  output?: string;
  /** The instance starting the job (approved → running). */
  runner?: string;
}

export type EventKind = "dm" | "mention" | "slash" | "action" | "other";
/** received: not yet answered (picked up after a crash); answered, ignored, failed: done. */
export type EventStatus = "received" | "answered" | "ignored" | "failed";

export interface NewEvent {
  /** The dedupe key: a second record with the same key is a redelivery. */
  key: string;
  kind: EventKind;
  channel?: string;
  ts?: string;
  threadTs?: string;
  user?: string;
  text?: string;
  /** JSON: the payload as Slack delivered it (redacted). */
  payload: string;
  status?: EventStatus;
  /** Why, for the record: e.g. "paused" when it arrived while the kill switch was on. */
  detail?: string;
  /** Recorded already taken for answering by `owner` until `until`, as a claim would take it (no claim needed after). */
  lease?: { owner: string; until: number };
}

export interface InboundEvent {
  id: number;
  key: string;
  kind: EventKind;
  channel: string | null;
  ts: string | null;
  threadTs: string | null;
  user: string | null;
  text: string | null;
  payload: string;
  status: EventStatus;
  detail: string | null;
  receivedAt: number;
}

/** A new event as a record stores it (the port's defaults filled in), for `record` to return without a read. */
export function eventAsRecorded(e: NewEvent, now: number): Omit<InboundEvent, "id"> {
  return {
    key: e.key,
    kind: e.kind,
    channel: e.channel ?? null,
    ts: e.ts ?? null,
    threadTs: e.threadTs ?? null,
    user: e.user ?? null,
    text: e.text ?? null,
    payload: e.payload,
    status: e.status ?? "received",
    detail: e.detail ?? null,
    receivedAt: now,
  };
}

export type OutboxOp = "post" | "ephemeral" | "update" | "respond" | "upload";
export type OutboxStatus = "pending" | "sending" | "sent" | "failed" | "suppressed";

export interface NewOutbox {
  eventKey?: string;
  op: OutboxOp;
  channel: string;
  threadTs?: string;
  user?: string;
  targetTs?: string;
  responseUrl?: string;
  text: string;
  /** Stored as JSON. */
  blocks?: unknown[];
  fingerprint?: string;
  status?: "pending" | "suppressed";
  /** upload: the file's content; `text` is its comment. due() leaves it out: read it with content(). */
  content?: string;
  /** upload: unique per item, so an uncertain upload can be found in the thread. */
  fileName?: string;
  fileTitle?: string;
}

export interface OutboxItem {
  id: number;
  eventKey: string | null;
  op: OutboxOp;
  channel: string;
  threadTs: string | null;
  user: string | null;
  targetTs: string | null;
  responseUrl: string | null;
  text: string;
  /** JSON array of blocks, or null. */
  blocks: string | null;
  fingerprint: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  leaseUntil: number | null;
  sentTs: string | null;
  createdAt: number;
  /** An upload's content; null in due()'s items (read it with content()). */
  content: string | null;
  fileName: string | null;
  fileTitle: string | null;
}

export interface OutboxCounts {
  /** pending and sending */
  pending: number;
  failed: number;
  sent: number;
  suppressed: number;
}

/** A thread the bot took part in, and when it last did. */
export interface ThreadActivity {
  channel: string;
  threadTs: string;
  at: number;
}

export interface UsageRecord {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  eventKey?: string;
}

export interface UsageSummary {
  provider: string;
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
}

export interface LogEntry {
  id: number;
  at: number;
  level: string;
  msg: string;
  fields: string | null;
}

/** What `clawdbot logs` asks for: a page of entries by id, optionally from a time and of some levels. */
export interface LogQuery {
  /** Entries with a larger id only (what arrived since the last page). */
  afterId?: number;
  /** Entries with a smaller id only (paging back from the newest). */
  beforeId?: number;
  /** Entries logged at or after this time (ms since the epoch). */
  since?: number;
  levels?: readonly string[];
  limit: number;
  /** Newest first (paging back); else oldest first. */
  newestFirst?: boolean;
}

export interface SettingsRepo {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, now: number): Promise<void>;
  isPaused(): Promise<boolean>;
  setPaused(paused: boolean, now: number): Promise<void>;
}

/** Inbound events, recorded before they are acked; the key makes every redelivery a no-op. */
export interface EventsRepo {
  /**
   * `fresh` is false when the key was recorded before (a redelivery): nothing was written.
   * `event` is the event as recorded (one statement: no read after the write), null for a redelivery.
   */
  record(e: NewEvent, now: number): Promise<{ fresh: boolean; event: InboundEvent | null }>;
  setStatus(key: string, status: EventStatus, now: number, detail?: string): Promise<void>;
  get(key: string): Promise<InboundEvent | null>;
  /**
   * Takes a received event for answering until `leaseUntil`; of two owners only one wins.
   * The owner holding it may claim it again (renewal); an expired lease may be taken.
   */
  claim(key: string, owner: string, now: number, leaseUntil: number): Promise<boolean>;
  /** Owners holding leases on received events. */
  leaseOwners(): Promise<string[]>;
  /** Ends a dead owner's leases so its events are taken over now; returns how many. */
  releaseLeases(owner: string): Promise<number>;
  /** Received and never answered (what a crash left behind), oldest first. */
  unanswered(limit?: number): Promise<InboundEvent[]>;
  /** Counts by status. */
  counts(): Promise<Record<string, number>>;
  /** Conversations where DMs or mentions were received since `since`. */
  activeChannels(since: number): Promise<string[]>;
  /** Threads of DMs and mentions received since `since`, newest activity first. */
  activeThreads(since: number, limit?: number): Promise<ThreadActivity[]>;
  /** Whether any event of this conversation is on record. */
  knows(channel: string): Promise<boolean>;
  /** Forgets finished events received before `before`; returns how many. */
  purge(before: number): Promise<number>;
}

/**
 * The durable outbox: pending → sending (leased) → sent | failed | pending again (retry);
 * suppressed for duplicates and for an upload whose content went as messages instead.
 */
export interface OutboxRepo {
  /** Returns the new item's id. */
  enqueue(item: NewOutbox, now: number): Promise<number>;
  /** Whether an item with this fingerprint (not suppressed) was queued at or after `since`. */
  hasRecent(fingerprint: string, since: number): Promise<boolean>;
  /**
   * Takes a pending item (or a sending one whose lease ran out) for sending until
   * `leaseUntil`, counting an attempt; of two senders only one wins. Returns the item as
   * claimed (status sending, this attempt counted; without content, like due()), null if
   * not taken.
   */
  claim(id: number, owner: string, now: number, leaseUntil: number): Promise<OutboxItem | null>;
  leaseOwners(): Promise<string[]>;
  releaseLeases(owner: string): Promise<number>;
  markSent(id: number, ts: string | null, now: number): Promise<void>;
  retryAt(id: number, at: number, error: string, now: number): Promise<void>;
  markFailed(id: number, error: string, now: number): Promise<void>;
  /** Suppressed because something else carries it (an upload refused, sent as messages). */
  markReplaced(id: number, why: string, now: number): Promise<void>;
  /** A failed item back in the queue (replay); false if it was not failed. */
  requeue(id: number, now: number): Promise<boolean>;
  /** Pending, sending and failed items an event produced, oldest first. */
  idsForEvent(eventKey: string): Promise<number[]>;
  /** A pending item waiting out a backoff is due now; a rate limit's wait is kept. */
  dueNow(id: number, now: number): Promise<boolean>;
  /** An upload's content. */
  content(id: number): Promise<string | null>;
  get(id: number): Promise<OutboxItem | null>;
  /** Pending items due by `now` and sending items whose lease ran out, oldest first, without content. */
  due(now: number, limit?: number): Promise<OutboxItem[]>;
  /** Pending, sending and failed items, oldest first. */
  undelivered(limit?: number): Promise<OutboxItem[]>;
  /** Failed items (with their lastError), newest first, without content. */
  failed(limit: number): Promise<OutboxItem[]>;
  /** When the next pending item is due or the next lease runs out; null if none. */
  nextDueAt(): Promise<number | null>;
  counts(): Promise<OutboxCounts>;
  /** Conversations posted to since `since`. */
  postedChannels(since: number): Promise<string[]>;
  /** Threads posted to since `since`, newest first. */
  postedThreads(since: number, limit?: number): Promise<ThreadActivity[]>;
  /** Forgets sent and suppressed items created before `before`. */
  purge(before: number): Promise<number>;
}

/** Approvals as a state machine: a transition happens once, whoever races for it. */
export interface ApprovalsRepo {
  create(a: NewApproval, now: number): Promise<Approval>;
  /** The copy of the card in `channel` was posted as `ts`. */
  setCard(id: string, channel: string, ts: string): Promise<void>;
  /** The copies of the card, in the order they were created. */
  cards(id: string): Promise<CardCopy[]>;
  /** Records the running job's process (only while it is running). */
  setPid(id: string, pid: number): Promise<void>;
  get(id: string): Promise<Approval | null>;
  /** Moves `id` from one of `from` to `to`; false if it was in none of them (someone else won). */
  transition(id: string, from: ApprovalStatus[], to: ApprovalStatus, patch?: TransitionPatch): Promise<boolean>;
  /** Newest first. */
  list(limit?: number): Promise<Approval[]>;
  /** Oldest first; at most `limit` when given. */
  withStatus(status: ApprovalStatus, limit?: number): Promise<Approval[]>;
  /** Pending ones whose time ran out by `now`. */
  expiredPending(now: number): Promise<Approval[]>;
  /** Forgets finished approvals (and their card copies) created before `before`; open ones are kept whatever their age. */
  purge(before: number): Promise<number>;
  countByStatus(): Promise<Record<string, number>>;
}

export interface UsageRepo {
  record(u: UsageRecord, now: number): Promise<void>;
  /** Totals per provider and model, folded past included. */
  summary(): Promise<UsageSummary[]>;
  /** Folds records older than `before` into the totals (call in a transaction); returns how many. */
  fold(before: number): Promise<number>;
}

/** The bounded, append-only log: an append costs the same however big the log is. */
export interface LogsRepo {
  append(at: number, level: string, msg: string, fields?: string): Promise<void>;
  /** Bytes the log counts as used (text plus per-entry overhead), within the retention bound. */
  usedBytes(): Promise<number>;
  /** The newest `limit` entries, oldest first. */
  tail(limit?: number): Promise<LogEntry[]>;
  /** A page of entries as `q` says. */
  select(q: LogQuery): Promise<LogEntry[]>;
  count(): Promise<number>;
}

/** A clawdbot process sharing the store, as its presence row says. */
export interface Instance {
  id: string;
  host: string;
  startedAt: number;
  /** When it last renewed its presence. */
  lastSeenAt: number;
  /** When it stopped gracefully; null while it runs (or until it is found dead). */
  stoppedAt: number | null;
  /** The instance that took over its work after it stopped or died; null until then. */
  takenOverBy: string | null;
}

/**
 * Presence: each `run` process has a row it renews every few seconds. One that stopped, or
 * went silent for the instance timeout, is taken over by one of the others (its leases
 * released, its running jobs reported, its events answered).
 */
export interface InstancesRepo {
  /** Registers this process, a new life for its id: stopped and taken over are cleared. */
  announce(id: string, host: string, now: number): Promise<void>;
  /** Renews the presence; false if the row is gone, stopped or taken over (the others took it for dead). */
  renew(id: string, now: number): Promise<boolean>;
  /** A graceful stop: the others take its work over at once. */
  stop(id: string, now: number): Promise<void>;
  /** Oldest first. */
  list(): Promise<Instance[]>;
  /**
   * Claims the work of `id` for `by` if it stopped or was last seen before `silentSince`,
   * and nobody took it over yet; of several callers one wins.
   */
  takeOver(id: string, by: string, silentSince: number): Promise<boolean>;
  /** Forgets taken-over instances last seen before `before`. */
  purge(before: number): Promise<number>;
}

/** Named leases for the cluster's one-at-a-time work (catch-up, the heartbeat). */
export interface LeasesRepo {
  /** Takes `name` until `until` if it is free, expired, or already `owner`'s; of two owners one wins. */
  acquire(name: string, owner: string, now: number, until: number): Promise<boolean>;
  /** Gives it back if `owner` holds it. */
  release(name: string, owner: string): Promise<void>;
  /** Gives back everything `owner` holds (it died); returns how many. */
  releaseAll(owner: string): Promise<number>;
}

/** How a live message grows: chat.startStream/appendStream, or chat.postMessage then chat.update. */
export type LiveMode = "stream" | "update";

/**
 * A message showing an answer while the agent produces it, recorded until the final answer is
 * queued for it (then the outbox owns it). One left behind by a crash is finished after the
 * restart: the event is answered again into the same message.
 */
export interface LiveMessage {
  eventKey: string;
  channel: string;
  threadTs: string | null;
  /** Slack's ts; null while its start is under way (or if a crash came first). */
  ts: string | null;
  mode: LiveMode;
  createdAt: number;
}

/** Live messages by event: at most one each. */
export interface LiveRepo {
  /** Records an event's live message, or replaces it (its ts, once Slack gave one). */
  put(m: LiveMessage): Promise<void>;
  get(eventKey: string): Promise<LiveMessage | null>;
  /** Forgets it: call in the transaction that queues the final answer. */
  remove(eventKey: string): Promise<void>;
}

/** What a transaction body works with; the root store offers the same outside one. */
export interface StoreTx {
  readonly settings: SettingsRepo;
  readonly events: EventsRepo;
  readonly outbox: OutboxRepo;
  readonly approvals: ApprovalsRepo;
  readonly usage: UsageRepo;
  readonly logs: LogsRepo;
  readonly instances: InstancesRepo;
  readonly leases: LeasesRepo;
  readonly live: LiveRepo;
}

export interface Store extends StoreTx {
  readonly kind: "sqlite" | "postgres";
  /** Where it is, for people: the file's path, or the database URL without its password. */
  readonly location: string;
  /**
   * Statements issued together inside one transaction are pipelined on its connection
   * (PostgreSQL): the group commit then runs a group's writes at once instead of one after
   * another. Unset: they run in turn (SQLite, where a statement is a call, not a round trip).
   */
  readonly pipelines?: boolean;
  /** Runs fn as one write transaction on the handle it is given: all of it lands, or none. */
  tx<T>(fn: (t: StoreTx) => Promise<T>): Promise<T>;
  /** Runs fn as one read: everything it reads comes from one consistent snapshot. */
  read<T>(fn: (t: StoreTx) => Promise<T>): Promise<T>;
  /** The schema version the store is at. */
  schemaVersion(): Promise<number>;
  /** What `doctor` asks of it; nothing there changes what the store holds. */
  diagnostics(): StoreDiagnostics;
  /** Waits for calls in flight, then releases the store; nothing may use it after. */
  close(): Promise<void>;
}

export interface StoreDiagnostics {
  /** What the store's own integrity check finds wrong; empty when it is sound. */
  integrityProblems(): Promise<string[]>;
  /** The newest schema version this build knows (what `run` would migrate it to). */
  readonly latestSchemaVersion: number;
  /** Takes a write transaction and writes in it, then rolls it back; throws if this process cannot write. */
  probeWrite(): Promise<void>;
}

/** The store cannot be opened or used: `problem` says what is wrong with it and what to do. */
export class StoreError extends Error {
  readonly code = "store";
  constructor(
    readonly location: string,
    /** A phrase that follows the store's name: "is damaged ...; restore it from a backup". */
    readonly problem: string,
  ) {
    super(`the store ${location} ${problem}`);
  }
}

/** The store cannot be reached right now (the database is down, the network cut): waiting helps, nothing needs fixing. */
export class StoreUnreachable extends StoreError {}
