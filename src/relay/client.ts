// The conversation relay (contract: Relay). It is optional and never on the critical
// path: /context degrades to "no context", /log is fire-and-forget. Every call that gives
// up is counted in `failures`, which health reports as relay_failures.
import type { ContextMessage } from "../agents/types.ts";
import type { Logger } from "../core/logger.ts";

export interface RelayClientOptions {
  url: string;
  log: Logger;
  /** Per attempt. */
  timeoutMs?: number;
  attempts?: number;
  /** Pause between attempts. */
  retryDelayMs?: number;
  /** Most /log calls in flight; beyond it entries are dropped (and counted). */
  maxInFlight?: number;
  fetch?: typeof fetch;
}

export interface ContextRequest {
  channel: string;
  thread_ts: string | null | undefined;
  user: string;
  text: string;
}

export interface LogEntry {
  direction: "in" | "out";
  event_id: string | null | undefined;
  channel: string;
  ts: string | null | undefined;
  thread_ts: string | null | undefined;
  user: string | null | undefined;
  text: string;
}

type Endpoint = "/context" | "/log";

/** A failed attempt, with a reason that is short and safe to log. */
class RelayCallError extends Error {}

export class RelayClient {
  failures = 0;
  lastError?: string;

  private readonly base: string;
  private readonly log_: Logger;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly maxInFlight: number;
  private readonly fetch_: typeof fetch;
  private readonly inFlight = new Set<Promise<void>>();
  /** True while /log entries are being dropped: one warn per streak, not per entry. */
  private dropping = false;

  constructor(opts: RelayClientOptions) {
    this.base = opts.url.replace(/\/+$/, "");
    this.log_ = opts.log;
    this.timeoutMs = opts.timeoutMs ?? 6000;
    this.attempts = Math.max(1, opts.attempts ?? 2);
    this.retryDelayMs = opts.retryDelayMs ?? 500;
    this.maxInFlight = opts.maxInFlight ?? 100;
    this.fetch_ = opts.fetch ?? fetch;
  }

  /** /log calls not finished yet. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** The conversation context for a message; [] when the relay can't give it. Never throws. */
  async context(req: ContextRequest): Promise<ContextMessage[]> {
    const body = { channel: req.channel, thread_ts: req.thread_ts ?? null, user: req.user, text: req.text };
    try {
      return await this.call("/context", body, parseContext);
    } catch (err) {
      this.fail("/context", err);
      return [];
    }
  }

  /** Records a message in or out. Fire-and-forget: returns at once, never throws. */
  log(entry: LogEntry): void {
    try {
      if (this.inFlight.size >= this.maxInFlight) {
        // A dead or slow relay must not pile up memory and sockets: drop, count, warn once.
        this.failures++;
        this.lastError = "/log dropped: too many calls in flight";
        if (!this.dropping) {
          this.dropping = true;
          this.log_.warn(`relay /log dropped: ${this.maxInFlight} calls in flight (failures: ${this.failures})`);
        }
        return;
      }
      this.dropping = false;
      const body = {
        direction: entry.direction,
        event_id: entry.event_id ?? null,
        channel: entry.channel,
        ts: entry.ts ?? null,
        thread_ts: entry.thread_ts ?? null,
        user: entry.user ?? null,
        text: entry.text,
      };
      const p: Promise<void> = this.call("/log", body, () => undefined)
        .catch((err) => this.fail("/log", err))
        .finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    } catch (err) {
      // Only a bug could get here (e.g. an unserialisable entry); still never throw.
      this.fail("/log", err);
    }
  }

  /** Waits for in-flight /log calls, at most timeoutMs. True when all finished. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.inFlight.size === 0) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = Promise.allSettled([...this.inFlight]).then(() => true as const);
    try {
      return await Promise.race([done, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** POSTs with a per-attempt timeout, retrying; throws RelayCallError after the last attempt. */
  private async call<T>(path: Endpoint, body: unknown, parse: (json: unknown) => T): Promise<T> {
    const payload = JSON.stringify(body);
    let reason = "";
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1 && this.retryDelayMs > 0) await Bun.sleep(this.retryDelayMs);
      try {
        return await this.attempt(path, payload, parse);
      } catch (err) {
        reason = this.describe(err);
      }
    }
    throw new RelayCallError(reason);
  }

  private async attempt<T>(path: Endpoint, payload: string, parse: (json: unknown) => T): Promise<T> {
    const res = await this.fetch_(this.base + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: payload,
      // Bounds the body read too, not only the headers.
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new RelayCallError(`HTTP ${res.status}`);
    }
    if (path === "/log") {
      // Nothing to read; release the connection.
      await res.body?.cancel().catch(() => {});
      return parse(undefined);
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch (err) {
      if (isTimeout(err)) throw err;
      throw new RelayCallError("answer is not JSON");
    }
    return parse(json);
  }

  private fail(path: Endpoint, err: unknown): void {
    this.failures++;
    const reason = err instanceof RelayCallError ? err.message : this.describe(err);
    this.lastError = `${path}: ${reason}`;
    this.log_.warn(
      `relay ${path} failed after ${this.attempts} attempt${this.attempts === 1 ? "" : "s"}: ${reason} (failures: ${this.failures})`,
    );
  }

  /** A short reason without the URL (it may carry credentials). */
  private describe(err: unknown): string {
    if (err instanceof RelayCallError) return err.message;
    if (isTimeout(err)) return `timed out after ${this.timeoutMs} ms`;
    const e = err as { code?: unknown; message?: unknown } | null;
    const code = typeof e?.code === "string" ? e.code : "";
    if (code === "ConnectionRefused" || code === "ECONNREFUSED") return "connection refused";
    const msg = typeof e?.message === "string" ? e.message : String(err);
    const text = (code ? `${code}: ${msg}` : msg).split(this.base).join("<relay>");
    return text.length > 200 ? `${text.slice(0, 200)}...` : text;
  }
}

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === "TimeoutError" || name === "AbortError";
}

/** `{messages: [{role, text}]}`; anything else is a failure, so a broken relay shows in health. */
export function parseContext(json: unknown): ContextMessage[] {
  const messages = (json as { messages?: unknown } | null)?.messages;
  if (typeof json !== "object" || json === null || !Array.isArray(messages)) {
    throw new RelayCallError("bad answer: no messages array");
  }
  return messages.map((m, i) => {
    const { role, text } = (m ?? {}) as { role?: unknown; text?: unknown };
    if ((role !== "user" && role !== "assistant") || typeof text !== "string") {
      throw new RelayCallError(`bad answer: messages[${i}] is not {role: "user"|"assistant", text}`);
    }
    return { role, text };
  });
}
