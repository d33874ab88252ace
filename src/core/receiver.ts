// The door every inbound payload comes through, whatever the transport (socket, HTTP,
// catch-up): record it (dedupe), ack it, then answer it in the background.
import type { Clock } from "./clock.ts";
import { classify, type Identity } from "./inbound.ts";
import type { Logger } from "./logger.ts";
import type { Store } from "./store.ts";

export interface ReceiverOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  identity(): Identity;
  /** Answers a freshly recorded event (routed through bolt in the runtime). */
  process(key: string, payload: Record<string, unknown>): void;
  onTerminal(reason: string): void;
  /** Our own message came back (the heartbeat's echo, among others); `payload` says which. */
  onCanary(payload: Record<string, unknown>): void;
  /** Takes secrets out of what is stored (and so out of what the agent sees). */
  redact?(text: string): string;
}

export class Receiver {
  received = 0;
  /** clock.mono() of the last event recorded. */
  lastEventAt: number | null = null;

  constructor(private readonly o: ReceiverOptions) {}

  /**
   * Records then acks: `ack` is called once the record is committed. Resolves false if the
   * event could not be recorded: it is then not acked, so Slack delivers it again rather
   * than it being lost.
   */
  async handle(type: string, payload: Record<string, unknown>, ack: () => void): Promise<boolean> {
    const { store, clock, log } = this.o;
    const c = classify(type, payload, this.o.identity());
    const redact = this.o.redact;
    if (redact) {
      c.event.payload = redact(c.event.payload);
      if (c.event.text) c.event.text = redact(c.event.text);
    }
    let fresh: boolean;
    try {
      // The kill switch applies to what arrives while it is on, however late it is answered.
      if (c.event.status !== "ignored" && c.event.kind !== "action" && (await store.settings.isPaused())) c.event.detail = "paused";
      fresh = (await store.events.record(c.event, clock.now())).fresh;
    } catch (err) {
      log.error(`cannot record an inbound ${type}: ${(err as Error).message}; not acking, Slack will redeliver`);
      return false;
    }
    ack();
    this.received++;
    this.lastEventAt = clock.mono();
    if (c.terminal) this.o.onTerminal(c.terminal);
    if (c.canary) this.o.onCanary(payload);
    if (!fresh) log.debug(`redelivery of ${c.event.key} ignored`);
    else if (c.event.status !== "ignored") this.o.process(c.event.key, payload);
    else log.debug(`event ${c.event.text ?? type} acked, nothing to do`);
    return true;
  }
}
