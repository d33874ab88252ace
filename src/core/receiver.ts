// The door every inbound payload comes through, whatever the transport (socket, HTTP,
// catch-up): record it (dedupe), ack it, then answer it in the background. What needs no
// answer is acked without a record.
import type { Clock } from "./clock.ts";
import type { Commit } from "./group-commit.ts";
import { type Classified, classify, type Identity } from "./inbound.ts";
import type { Logger } from "./logger.ts";
import type { InboundEvent } from "./store.ts";
import type { StoreHealth } from "./store-health.ts";

export interface ReceiverOptions {
  /** The records of envelopes that arrive together are committed together (group commit). */
  commit: Commit;
  clock: Clock;
  log: Logger;
  identity(): Identity;
  /** Answers a freshly recorded event (routed through bolt in the runtime), as it was recorded. */
  process(key: string, payload: Record<string, unknown>, recorded: InboundEvent): void;
  /** The lease an event to be answered is recorded with (the pipeline's), so it needs no claim of its own. */
  lease?(now: number): { owner: string; until: number };
  onTerminal(reason: string): void;
  /** Our own message came back (the heartbeat's echo, among others); `payload` says which. */
  onCanary(payload: Record<string, unknown>): void;
  /** Takes secrets out of what is stored (and so out of what the agent sees). */
  redact?(text: string): string;
  /** Hears whether records could be written. */
  storeHealth?: StoreHealth;
  /**
   * A command or a click that could not be recorded is acked and answered at once, outside
   * the store, that nothing was done (Slack does not redeliver those; the person tries again).
   */
  refuse?(responseUrl: string, text: string): Promise<void>;
}

export const NOT_RECORDED =
  ":warning: clawdbot cannot reach its store right now, so nothing was done. Please try again in a minute.";

export class Receiver {
  received = 0;
  /** clock.mono() of the last event received. */
  lastEventAt: number | null = null;

  constructor(private readonly o: ReceiverOptions) {}

  /**
   * Records then acks: `ack` is called once the record is committed (what needs no answer is
   * acked at once, unrecorded). Resolves false if the event could not be recorded: it is
   * then not acked, so Slack delivers it again rather than it being lost. A command or click
   * that could not be recorded is acked (true) and answered through its response_url that
   * nothing was done.
   */
  async handle(type: string, payload: Record<string, unknown>, ack: () => void): Promise<boolean> {
    const { clock, log } = this.o;
    const c = classify(type, payload, this.o.identity());
    // Nothing to answer (our own messages coming back, edits, other event types: half of a
    // busy bot's envelopes), so nothing a kill after the ack could lose: acked at once, with
    // no write for the ack to wait for.
    if (c.event.status === "ignored") {
      ack();
      this.arrived(c, payload);
      log.debug(`event ${c.event.text ?? type} acked, nothing to do`);
      return true;
    }
    const redact = this.o.redact;
    if (redact) {
      c.event.payload = redact(c.event.payload);
      if (c.event.text) c.event.text = redact(c.event.text);
    }
    let recorded: InboundEvent | null;
    try {
      recorded = await this.o.commit(async (t) => {
        // The kill switch applies to what arrives while it is on, however late it is answered.
        if (c.event.kind !== "action" && (await t.settings.isPaused())) c.event.detail = "paused";
        const now = clock.now();
        c.event.lease = this.o.lease?.(now);
        return (await t.events.record(c.event, now)).event;
      });
    } catch (err) {
      this.o.storeHealth?.failed(err);
      const responseUrl = typeof payload.response_url === "string" ? payload.response_url : undefined;
      if ((c.event.kind === "slash" || c.event.kind === "action") && responseUrl && this.o.refuse) {
        log.error(`cannot record a ${c.event.kind === "slash" ? "/claw command" : "click"}: ${(err as Error).message}; answered that nothing was done`);
        ack();
        this.o.refuse(responseUrl, NOT_RECORDED).catch((e) => log.warn(`could not tell the user nothing was done: ${(e as Error).message}`));
        return true;
      }
      log.error(`cannot record an inbound ${type}: ${(err as Error).message}; not acking, Slack will redeliver`);
      return false;
    }
    this.o.storeHealth?.wrote();
    ack();
    this.arrived(c, payload);
    if (!recorded) log.debug(`redelivery of ${c.event.key} ignored`);
    else this.o.process(c.event.key, payload, recorded);
    return true;
  }

  private arrived(c: Classified, payload: Record<string, unknown>): void {
    this.received++;
    this.lastEventAt = this.o.clock.mono();
    if (c.terminal) this.o.onTerminal(c.terminal);
    if (c.canary) this.o.onCanary(payload);
  }
}
