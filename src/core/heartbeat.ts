// The heartbeat (seed 3.4) doubles as a canary: the post must come back over the socket as
// a message event within the canary timeout. If it does not, the socket is deaf (connected,
// pinging, delivering nothing): it is replaced and health says stale until events flow.
import type { Clock, Timer } from "./clock.ts";
import type { Logger } from "./logger.ts";

export type CanaryState = "off" | "waiting" | "ok" | "missed";

export interface HeartbeatOptions {
  clock: Clock;
  log: Logger;
  canaryTimeoutMs: number;
  post(text: string): Promise<void>;
  text(): string;
  onDeaf(): void;
  connected(): boolean;
}

export class Heartbeat {
  state: CanaryState = "off";
  private deadline: Timer | null = null;

  constructor(private readonly o: HeartbeatOptions) {}

  /** One beat: post, then wait for the echo. Throws if the post fails (the worker counts it). */
  async beat(): Promise<void> {
    if (!this.o.connected()) return;
    if (this.state === "waiting") return;
    this.state = "waiting";
    try {
      await this.o.post(this.o.text());
    } catch (err) {
      this.state = "off";
      throw err;
    }
    if (this.deadline) this.o.clock.clearTimeout(this.deadline);
    this.deadline = this.o.clock.setTimeout(() => {
      this.deadline = null;
      if (this.state !== "waiting") return;
      this.state = "missed";
      this.o.log.warn(`heartbeat did not come back within ${this.o.canaryTimeoutMs / 1000} s: the socket is deaf, replacing it`);
      this.o.onDeaf();
    }, this.o.canaryTimeoutMs);
  }

  /** Our own message came back over the socket. */
  echoed(): void {
    if (this.state === "waiting" && this.deadline) this.o.clock.clearTimeout(this.deadline);
    this.deadline = null;
    this.state = "ok";
  }

  /** Any event arrived: a missed canary is healed. */
  eventArrived(): void {
    if (this.state === "missed") this.state = "ok";
  }

  stop(): void {
    if (this.deadline) this.o.clock.clearTimeout(this.deadline);
  }
}
