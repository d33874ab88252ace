// Server side of Socket Mode: hello on connect, each envelope to one of the open connections,
// acks back to the delivery queue, server pings, disconnect messages.
import type { ServerWebSocket } from "bun";
import type { DeliveryRoute } from "./delivery.ts";
import type { DisconnectReason, Envelope } from "./types.ts";

export interface WsData {
  id: string;
  ticket: string;
}

export interface SocketConn {
  id: string;
  ws: ServerWebSocket<WsData>;
  openedAt: number;
  closedAt?: number;
  lastPongAt?: number;
  pings: number;
  pongs: number;
  /** Messages the client sent (acks and anything else), parsed. */
  received: unknown[];
  /** Refused at open (e.g. "too_many_websockets"): got a disconnect instead of hello, counts for nothing. */
  refused?: string;
}

export interface SocketModeHooks {
  appId: string;
  onAck(envelopeId: string, payload: unknown, connId: string): void;
  onConnectionOpen(): void;
}

export class SocketModeServer implements DeliveryRoute {
  readonly conns: SocketConn[] = [];
  private pingTimer?: ReturnType<typeof setInterval>;
  private readonly graceTimers = new Set<ReturnType<typeof setTimeout>>();
  private nextId = 1;
  /** Envelopes handed out so far: which connection's turn it is. */
  private sent = 0;

  constructor(
    private readonly hooks: SocketModeHooks,
    private readonly pingIntervalMs: number,
    /** Slack allows 10 concurrent connections per app (a Slack engineer in slackapi/node-slack-sdk#1654). */
    private readonly maxConnections = 10,
  ) {}

  newData(ticket: string): WsData {
    return { id: `conn-${this.nextId++}`, ticket };
  }

  start(): void {
    if (this.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => {
        for (const c of this.openConns()) {
          c.pings++;
          c.ws.ping();
        }
      }, this.pingIntervalMs);
    }
  }

  stop(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const t of this.graceTimers) clearTimeout(t);
    this.graceTimers.clear();
    for (const c of this.openConns()) c.ws.terminate();
  }

  openConns(): SocketConn[] {
    return this.conns.filter((c) => c.closedAt === undefined && !c.refused);
  }

  onOpen(ws: ServerWebSocket<WsData>): void {
    const conn: SocketConn = { id: ws.data.id, ws, openedAt: Date.now(), pings: 0, pongs: 0, received: [] };
    if (this.openConns().length >= this.maxConnections) {
      // One too many: Slack sends this disconnect where hello would be and closes (what the SDKs
      // see: slackapi/bolt-js#2225, "server explicit disconnect" while still connecting).
      conn.refused = "too_many_websockets";
      this.conns.push(conn);
      ws.send(JSON.stringify({ type: "disconnect", reason: "too_many_websockets", debug_info: { host: "emulator" } }));
      ws.close(1000, "too_many_websockets");
      return;
    }
    this.conns.push(conn);
    // num_connections counts this app's open connections, this one included.
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.openConns().length,
        debug_info: { host: "emulator", build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.hooks.appId },
      }),
    );
    this.hooks.onConnectionOpen();
  }

  onMessage(ws: ServerWebSocket<WsData>, raw: string | Buffer): void {
    const conn = this.byId(ws.data.id);
    let msg: unknown;
    try {
      msg = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"));
    } catch {
      return;
    }
    conn?.received.push(msg);
    if (msg && typeof msg === "object" && typeof (msg as { envelope_id?: unknown }).envelope_id === "string") {
      const m = msg as { envelope_id: string; payload?: unknown };
      this.hooks.onAck(m.envelope_id, m.payload, ws.data.id);
    }
  }

  onPong(ws: ServerWebSocket<WsData>): void {
    const c = this.byId(ws.data.id);
    if (c) {
      c.pongs++;
      c.lastPongAt = Date.now();
    }
  }

  onClose(ws: ServerWebSocket<WsData>): void {
    const c = this.byId(ws.data.id);
    if (c && c.closedAt === undefined) c.closedAt = Date.now();
  }

  /**
   * DeliveryRoute: one open connection gets it. An app may hold up to 10 connections and Slack
   * gives each payload to one of them (Socket Mode docs, api.slack.com/apis/socket-mode; a
   * Slack engineer in slackapi/node-slack-sdk#1654): here they take turns, so every instance
   * of a cluster gets its share and a test can tell which.
   */
  send(env: Envelope): string | undefined {
    const open = this.openConns();
    const target = open[this.sent++ % Math.max(1, open.length)];
    if (!target) return undefined;
    target.ws.send(JSON.stringify(env));
    return target.id;
  }

  sendDisconnect(reason: DisconnectReason, graceMs: number): void {
    const msg = JSON.stringify({ type: "disconnect", reason, debug_info: { host: "emulator" } });
    for (const c of this.openConns()) {
      c.ws.send(msg);
      // Slack closes the old connection itself if the client does not.
      const t = setTimeout(() => {
        this.graceTimers.delete(t);
        if (c.closedAt === undefined) c.ws.close(1000, "refresh");
      }, graceMs);
      this.graceTimers.add(t);
    }
  }

  /** Server-side abort for connections not behind the proxy. */
  terminateAll(): void {
    for (const c of this.openConns()) c.ws.terminate();
  }

  private byId(id: string): SocketConn | undefined {
    return this.conns.find((c) => c.id === id);
  }
}
