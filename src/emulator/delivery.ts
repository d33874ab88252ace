// Envelope delivery with Slack's redelivery rule: not acked within ackTimeoutMs →
// sent again with retry_attempt+1 to whatever route is open then, up to maxRetries,
// then dropped. With no route open, an attempt waits for one while its clock runs.
import type { Envelope, EnvelopeRecord, EnvelopeType } from "./types.ts";

export interface DeliveryRoute {
  /** Hands the envelope over now; returns a label for the route, or undefined if there is none. */
  send(env: Envelope, rec: EnvelopeRecord): string | undefined;
  /** Whether unacked envelopes of this type are retried on this route (default yes). */
  retries?(type: EnvelopeType): boolean;
}

interface Pending {
  rec: EnvelopeRecord;
  accepts: boolean;
  attempt: number;
  sent: boolean;
  failReason?: string;
  timer?: ReturnType<typeof setTimeout>;
}

export interface DeliveryOptions {
  ackTimeoutMs: number;
  maxRetries: number;
}

export class Delivery {
  readonly records: EnvelopeRecord[] = [];
  private readonly pending = new Map<string, Pending>();
  private withheld: Pending[] = [];
  private deafened = false;

  constructor(
    private readonly opts: DeliveryOptions,
    private route: DeliveryRoute,
    private readonly onAck: (rec: EnvelopeRecord, payload: unknown) => void,
  ) {}

  setRoute(route: DeliveryRoute): void {
    this.route = route;
  }

  enqueue(type: EnvelopeType, payload: Record<string, unknown>, accepts: boolean): EnvelopeRecord {
    const rec: EnvelopeRecord = { envelope_id: crypto.randomUUID(), type, payload, createdAt: Date.now(), attempts: [] };
    this.records.push(rec);
    const p: Pending = { rec, accepts, attempt: 0, sent: false };
    if (this.deafened) this.withheld.push(p);
    else this.start(p);
    return rec;
  }

  /** Sends a known envelope again at once, as a retry (retry_attempt = previous + 1). */
  redeliver(envelopeId: string, retryAttempt?: number): void {
    const rec = this.records.find((r) => r.envelope_id === envelopeId);
    if (!rec) throw new Error(`redeliver: unknown envelope ${envelopeId}`);
    const old = this.pending.get(envelopeId);
    if (old?.timer) clearTimeout(old.timer);
    const last = rec.attempts[rec.attempts.length - 1]?.retry_attempt ?? -1;
    const p: Pending = {
      rec,
      accepts: old?.accepts ?? rec.type !== "events_api",
      attempt: retryAttempt ?? last + 1,
      sent: false,
    };
    rec.acked = undefined;
    rec.dropped = undefined;
    this.start(p);
  }

  ack(envelopeId: string, payload: unknown, via: string): boolean {
    const p = this.pending.get(envelopeId);
    const rec = p?.rec ?? this.records.find((r) => r.envelope_id === envelopeId);
    if (!rec) return false;
    if (p?.timer) clearTimeout(p.timer);
    this.pending.delete(envelopeId);
    const first = !rec.acked;
    if (first) rec.acked = { at: Date.now(), payload, via };
    if (first) this.onAck(rec, payload);
    return true;
  }

  /** The route failed this attempt (HTTP error); the retry timer still decides when to retry. */
  noteFailure(envelopeId: string, reason: string): void {
    const p = this.pending.get(envelopeId);
    if (p) p.failReason = reason;
  }

  /** A route just opened: hand over attempts that found none. */
  routeAvailable(): void {
    for (const p of this.pending.values()) if (!p.sent) p.sent = this.trySend(p);
  }

  setDeafened(on: boolean): void {
    this.deafened = on;
    if (!on) {
      const w = this.withheld;
      this.withheld = [];
      for (const p of w) this.start(p);
    }
  }

  pendingIds(): string[] {
    return [...this.pending.keys()];
  }

  stop(): void {
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
    this.withheld = [];
  }

  private start(p: Pending): void {
    this.pending.set(p.rec.envelope_id, p);
    p.sent = this.trySend(p);
    this.arm(p);
  }

  private arm(p: Pending): void {
    p.timer = setTimeout(() => this.onTimeout(p), this.opts.ackTimeoutMs);
  }

  private onTimeout(p: Pending): void {
    if (this.pending.get(p.rec.envelope_id) !== p) return;
    if (p.attempt >= this.opts.maxRetries || this.route.retries?.(p.rec.type) === false) {
      this.pending.delete(p.rec.envelope_id);
      p.rec.dropped = true;
      return;
    }
    p.attempt++;
    p.sent = this.trySend(p);
    this.arm(p);
  }

  private trySend(p: Pending): boolean {
    const env: Envelope = {
      envelope_id: p.rec.envelope_id,
      payload: p.rec.payload,
      type: p.rec.type,
      accepts_response_payload: p.accepts,
      retry_attempt: p.attempt,
      retry_reason: p.attempt > 0 ? (p.failReason ?? "timeout") : "",
    };
    const via = this.route.send(env, p.rec);
    if (via === undefined) return false;
    p.rec.attempts.push({ retry_attempt: p.attempt, at: Date.now(), via });
    return true;
  }
}
