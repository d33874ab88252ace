// What happened to the Slack connection lately, for the status page: a bounded ring of
// connects, drops, failed attempts and their reasons (in memory: it describes this process),
// and since when the bot has been without a connection.
import type { Clock } from "./clock.ts";

export type ConnectionEventKind = "connected" | "reconnected" | "refresh" | "dropped" | "failed" | "revoked";

export interface ConnectionEvent {
  at: number;
  kind: ConnectionEventKind;
  /** Why: the drop's or the failure's reason, Slack's refresh reason. */
  detail?: string;
}

/** Enough to see a pattern (a flapping socket) without growing: about 10 kB at most. */
export const CONNECTION_HISTORY_SIZE = 50;

export class ConnectionHistory {
  private readonly ring: ConnectionEvent[] = [];
  private next = 0;
  private down: number | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly size = CONNECTION_HISTORY_SIZE,
  ) {}

  record(kind: ConnectionEventKind, detail?: string): void {
    const at = this.clock.now();
    const e: ConnectionEvent = detail ? { at, kind, detail } : { at, kind };
    if (this.ring.length < this.size) this.ring.push(e);
    else this.ring[this.next] = e;
    this.next = (this.next + 1) % this.size;
    if (kind === "connected" || kind === "reconnected") this.down = null;
    else if (kind !== "refresh") this.down ??= at;
  }

  /** Newest first, at most `limit`. */
  recent(limit = this.size): ConnectionEvent[] {
    const out: ConnectionEvent[] = [];
    for (let i = 1; i <= Math.min(limit, this.ring.length); i++) {
      out.push(this.ring[(this.next - i + this.ring.length) % this.ring.length] as ConnectionEvent);
    }
    return out;
  }

  /** When the connection was lost (the first drop or failure since the last connect); null while connected. */
  get downSince(): number | null {
    return this.down;
  }
}
