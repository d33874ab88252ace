// Injected Web API faults: matched per method (and optionally channel), counted down by `times`.
import type { ConnectionsOpenFailure, FaultSpec } from "./types.ts";

interface ActiveFault extends FaultSpec {
  method: string;
  remaining: number;
}

export class FaultRegistry {
  private faults: ActiveFault[] = [];
  private connOpenRemaining = 0;
  private connOpenKind: ConnectionsOpenFailure = "http500";
  revoked = false;

  add(method: string, spec: FaultSpec): void {
    this.faults.push({ ...spec, method, remaining: spec.times ?? Number.POSITIVE_INFINITY });
  }

  /** Takes (consumes one use of) the first fault matching this call. */
  take(method: string, args: Record<string, unknown>): FaultSpec | undefined {
    const channel = args.channel ?? args.channel_id;
    const f = this.faults.find(
      (x) => x.remaining > 0 && (x.method === method || x.method === "*") && (!x.channel || x.channel === channel),
    );
    if (!f) return undefined;
    f.remaining--;
    return f;
  }

  failConnectionsOpen(times: number | "forever", kind: ConnectionsOpenFailure): void {
    this.connOpenRemaining = times === "forever" ? Number.POSITIVE_INFINITY : times;
    this.connOpenKind = kind;
  }

  takeConnectionsOpenFailure(): ConnectionsOpenFailure | undefined {
    if (this.connOpenRemaining <= 0) return undefined;
    this.connOpenRemaining--;
    return this.connOpenKind;
  }

  clear(): void {
    this.faults = [];
    this.connOpenRemaining = 0;
  }
}
