// The heartbeat (seed 3.4) doubles as a canary: the post must come back over the socket as
// a message event within the canary timeout. If it does not, the socket is deaf (connected,
// pinging, delivering nothing): it is replaced and health says stale until events flow.
//
// In a cluster one instance beats per interval (whoever holds the heartbeat lease), and Slack
// gives the echo to one of the instances' connections: an echo another instance received
// counts (it notes it in the store). The canary then says the cluster hears events; each
// instance's own socket is still watched by its liveness timeout.
import type { Clock, Timer } from "./clock.ts";
import type { Logger } from "./logger.ts";

export type CanaryState = "off" | "waiting" | "ok" | "missed";

export interface HeartbeatOptions {
  clock: Clock;
  log: Logger;
  canaryTimeoutMs: number;
  /** Posts the beat; resolves to the message's ts. */
  post(text: string): Promise<string | null>;
  text(): Promise<string>;
  /** Whether this instance beats this time (the cluster's one beat per interval). */
  leads?(): Promise<boolean>;
  /** Whether another instance received the echo of the beat posted as `ts`. */
  echoedElsewhere?(ts: string): Promise<boolean>;
  onDeaf(): void;
  connected(): boolean;
}

export class Heartbeat {
  private phase: "off" | "waiting" | "ok" = "off";
  /** A canary was missed and no event arrived since: health stays stale, even while the next beat waits. */
  private deaf = false;
  private deadline: Timer | null = null;

  constructor(private readonly o: HeartbeatOptions) {}

  get state(): CanaryState {
    return this.deaf ? "missed" : this.phase;
  }

  /** One beat: post, then wait for the echo. Throws if the post fails (the worker counts it). */
  async beat(): Promise<void> {
    if (!this.o.connected()) return;
    // Asked first, also while an echo is awaited: the instance that beats keeps the lease.
    if (this.o.leads && !(await this.o.leads())) return;
    if (this.phase === "waiting") return;
    this.phase = "waiting";
    let ts: string | null;
    try {
      ts = await this.o.post(await this.o.text());
    } catch (err) {
      this.phase = "off";
      throw err;
    }
    if (this.deadline) this.o.clock.clearTimeout(this.deadline);
    this.deadline = this.o.clock.setTimeout(() => {
      this.deadline = null;
      if (this.phase !== "waiting") return;
      void this.judge(ts);
    }, this.o.canaryTimeoutMs);
  }

  /** The canary's time is up and this instance saw no echo: did another one? Else the socket is deaf. */
  private async judge(ts: string | null): Promise<void> {
    const elsewhere = ts !== null && this.o.echoedElsewhere ? await this.o.echoedElsewhere(ts).catch(() => false) : false;
    if (this.phase !== "waiting") return;
    if (elsewhere) {
      this.phase = "ok";
      return;
    }
    this.phase = "off";
    this.deaf = true;
    this.o.log.warn(`heartbeat did not come back within ${this.o.canaryTimeoutMs / 1000} s: the socket is deaf, replacing it`);
    this.o.onDeaf();
  }

  /** Our own message came back over the socket. */
  echoed(): void {
    if (this.deadline) this.o.clock.clearTimeout(this.deadline);
    this.deadline = null;
    this.phase = "ok";
    this.deaf = false;
  }

  /** Any event arrived over the connection: a missed canary is healed. */
  eventArrived(): void {
    if (!this.deaf) return;
    this.deaf = false;
    this.phase = "ok";
  }

  stop(): void {
    if (this.deadline) this.o.clock.clearTimeout(this.deadline);
  }
}
