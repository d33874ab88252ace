// One Socket Mode WebSocket, nothing more: it parses frames, acks envelopes, and reports
// every sign of life. Reconnecting, liveness and handover belong to the supervisor.
import type { Clock } from "../core/clock.ts";

export interface Envelope {
  envelope_id: string;
  type: string;
  payload: Record<string, unknown>;
  accepts_response_payload?: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

export interface ConnectionHandlers {
  hello(conn: SocketConnection): void;
  envelope(conn: SocketConnection, env: Envelope): void;
  /** Slack's `disconnect` message: warning, refresh_requested, link_disabled, too_many_websockets. */
  disconnectMessage(conn: SocketConnection, reason: string): void;
  closed(conn: SocketConnection, why: string): void;
}

let nextId = 1;

/** Text of a frame, text or binary (a Buffer or ArrayBuffer decoded as UTF-8). */
export function frameText(data: unknown): string {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
  return String(data);
}

export class SocketConnection {
  readonly id = nextId++;
  lastActivityAt: number;
  helloAt: number | null = null;
  numConnections: number | null = null;
  /** Settles when the socket is closed, whoever closed it. */
  readonly closed: Promise<void>;
  private closedReported = false;
  private markClosed!: () => void;
  private destroyTimer: ReturnType<Clock["setTimeout"]> | null = null;
  private readonly ws: WebSocket;

  constructor(
    url: string,
    private readonly handlers: ConnectionHandlers,
    private readonly clock: Clock,
  ) {
    this.lastActivityAt = clock.mono();
    this.closed = new Promise<void>((resolve) => {
      this.markClosed = resolve;
    });
    this.ws = new WebSocket(url);
    this.ws.addEventListener("message", (e) => this.onMessage(frameText(e.data)));
    this.ws.addEventListener("ping", () => this.touch());
    this.ws.addEventListener("pong", () => this.touch());
    this.ws.addEventListener("close", (e) => this.onGone(`closed (${e.code}${e.reason ? ` ${e.reason}` : ""})`));
    this.ws.addEventListener("error", () => this.onGone("socket error"));
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN && !this.closedReported;
  }

  private touch(): void {
    this.lastActivityAt = this.clock.mono();
  }

  private onMessage(raw: string): void {
    this.touch();
    let msg: { type?: string; reason?: string; envelope_id?: string; num_connections?: unknown };
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    // `null`, a number, an array: valid JSON but no frame of Slack's; reading .type would throw.
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return;
    if (msg.type === "hello") {
      this.helloAt = this.clock.mono();
      if (typeof msg.num_connections === "number") this.numConnections = msg.num_connections;
      this.handlers.hello(this);
    } else if (msg.type === "disconnect") {
      this.handlers.disconnectMessage(this, msg.reason ?? "unknown");
    } else if (msg.envelope_id) {
      this.handlers.envelope(this, msg as Envelope);
    }
  }

  ack(envelopeId: string, payload?: unknown): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(payload === undefined ? { envelope_id: envelopeId } : { envelope_id: envelopeId, payload }));
    return true;
  }

  /** Our own ping: a live peer answers with a pong, which counts as activity. */
  ping(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  /** Polite close (handover, shutdown): a close frame, then the TCP connection is cut regardless. */
  close(): void {
    this.closedReported = true;
    try {
      this.ws.close(1000, "bye");
    } catch {
      // already closing
    }
    // A peer that never answers the close frame must not keep the socket alive (leak).
    this.destroyTimer ??= this.clock.setTimeout(() => this.destroy(), 1000);
  }

  /** Abrupt: the TCP connection is dropped now, no handshake (dead or silent peer). */
  destroy(): void {
    this.closedReported = true;
    this.clearDestroyTimer();
    try {
      this.ws.terminate();
    } catch {
      // already gone
    }
    this.markClosed();
  }

  private clearDestroyTimer(): void {
    if (this.destroyTimer) this.clock.clearTimeout(this.destroyTimer);
    this.destroyTimer = null;
  }

  private onGone(why: string): void {
    this.clearDestroyTimer();
    this.markClosed();
    if (this.closedReported) return;
    this.closedReported = true;
    this.handlers.closed(this, why);
  }
}
