// TCP proxy in front of the Socket Mode endpoint. It exists so faults can act at the
// TCP level, as a real network does: black-holing (bytes stop, TCP stays open),
// abrupt drops (no close frame), refusals, and so connections are counted as TCP
// sockets (a socket the client forgot to close still counts).
import type { Socket, TCPSocketListener } from "bun";
import type { ConnectionLogEntry, Gap } from "./types.ts";

/** Write queue honouring backpressure: Bun's socket.write may take only part of a chunk. */
class Outbox {
  private queue: Uint8Array[] = [];
  constructor(private sock: Socket<unknown> | undefined) {}
  attach(sock: Socket<unknown>): void {
    this.sock = sock;
    this.flush();
  }
  write(data: Uint8Array): void {
    this.queue.push(data);
    this.flush();
  }
  flush(): void {
    const s = this.sock;
    if (!s) return;
    while (this.queue.length > 0) {
      const chunk = this.queue[0]!;
      const n = s.write(chunk);
      if (n < chunk.byteLength) {
        this.queue[0] = chunk.subarray(Math.max(n, 0));
        return;
      }
      this.queue.shift();
    }
  }
  get empty(): boolean {
    return this.queue.length === 0;
  }
}

interface ProxyConn {
  entry: ConnectionLogEntry;
  client: Socket<ClientData>;
  upstream?: Socket<UpstreamData>;
  toUpstream: Outbox;
  toClient: Outbox;
  /** Held bytes while black-holed, released (as TCP retransmission would) when it ends. */
  heldUp: Uint8Array[];
  heldDown: Uint8Array[];
  blackholed: boolean;
  upstreamClosed: boolean;
  clientClosed: boolean;
}

interface ClientData {
  conn?: ProxyConn;
}
interface UpstreamData {
  conn?: ProxyConn;
}

export class SocketProxy {
  readonly log: ConnectionLogEntry[] = [];
  maxConcurrent = 0;
  private listener?: TCPSocketListener<ClientData>;
  private readonly conns = new Set<ProxyConn>();
  private nextId = 1;
  private blackholeOn = false;
  private refusing = false;

  constructor(private readonly upstreamPort: number) {}

  get port(): number {
    if (!this.listener) throw new Error("proxy not started");
    return this.listener.port;
  }

  start(): void {
    this.listener = Bun.listen<ClientData>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (client) => this.onClientOpen(client),
        data: (client, data) => {
          const c = client.data?.conn;
          if (!c) return;
          const copy = new Uint8Array(data);
          if (c.blackholed) c.heldUp.push(copy);
          else c.toUpstream.write(copy);
        },
        drain: (client) => client.data?.conn?.toClient.flush(),
        close: (client) => this.onClientClose(client.data?.conn),
        error: (client) => this.onClientClose(client.data?.conn),
      },
    });
  }

  stop(): void {
    for (const c of [...this.conns]) this.destroy(c, "server");
    this.listener?.stop(true);
    this.listener = undefined;
  }

  open(): number {
    return this.conns.size;
  }

  setBlackhole(on: boolean): void {
    this.blackholeOn = on;
    for (const c of this.conns) {
      c.blackholed = on;
      if (!on) this.release(c);
    }
  }

  setRefusing(on: boolean): void {
    this.refusing = on;
  }

  /** Abrupt close of every connection: TCP destroyed both sides, no close frame. */
  dropAll(): void {
    for (const c of [...this.conns]) this.destroy(c, "drop");
  }

  gaps(now = Date.now()): Gap[] {
    // Sweep open/close events; a gap is a stretch with zero open after the first open.
    const events: { t: number; d: number }[] = [];
    for (const e of this.log) {
      events.push({ t: e.openedAt, d: 1 });
      if (e.closedAt !== undefined) events.push({ t: e.closedAt, d: -1 });
    }
    events.sort((a, b) => a.t - b.t || b.d - a.d);
    const gaps: Gap[] = [];
    let open = 0;
    let gapStart: number | undefined;
    for (const ev of events) {
      open += ev.d;
      if (open === 0 && ev.d < 0) gapStart = ev.t;
      if (open === 1 && ev.d > 0 && gapStart !== undefined) {
        gaps.push({ from: gapStart, to: ev.t, ms: ev.t - gapStart, ongoing: false });
        gapStart = undefined;
      }
    }
    if (gapStart !== undefined) gaps.push({ from: gapStart, to: now, ms: now - gapStart, ongoing: true });
    return gaps;
  }

  private onClientOpen(client: Socket<ClientData>): void {
    if (this.refusing) {
      client.terminate();
      return;
    }
    const entry: ConnectionLogEntry = { id: this.nextId++, openedAt: Date.now() };
    const c: ProxyConn = {
      entry,
      client,
      toUpstream: new Outbox(undefined),
      toClient: new Outbox(client as Socket<unknown>),
      heldUp: [],
      heldDown: [],
      blackholed: this.blackholeOn,
      upstreamClosed: false,
      clientClosed: false,
    };
    client.data = { conn: c };
    this.conns.add(c);
    this.log.push(entry);
    this.maxConcurrent = Math.max(this.maxConcurrent, this.conns.size);
    Bun.connect<UpstreamData>({
      hostname: "127.0.0.1",
      port: this.upstreamPort,
      data: { conn: c },
      socket: {
        open: (up) => {
          if (c.clientClosed) {
            up.terminate();
            return;
          }
          c.upstream = up;
          c.toUpstream.attach(up as Socket<unknown>);
        },
        data: (_up, data) => {
          const copy = new Uint8Array(data);
          if (c.blackholed) c.heldDown.push(copy);
          else c.toClient.write(copy);
        },
        drain: () => c.toUpstream.flush(),
        close: () => this.onUpstreamClose(c),
        error: () => this.onUpstreamClose(c),
      },
    }).catch(() => this.onUpstreamClose(c));
  }

  private release(c: ProxyConn): void {
    for (const d of c.heldUp.splice(0)) c.toUpstream.write(d);
    for (const d of c.heldDown.splice(0)) c.toClient.write(d);
    if (c.upstreamClosed) this.closeClientSide(c, "server");
  }

  private onClientClose(c: ProxyConn | undefined): void {
    if (!c || c.clientClosed) return;
    c.clientClosed = true;
    this.markClosed(c, "client");
    // The server side learns of it even while black-holed, so its state is cleaned up.
    c.upstream?.end();
  }

  private onUpstreamClose(c: ProxyConn): void {
    if (c.upstreamClosed) return;
    c.upstreamClosed = true;
    // While black-holed the client must not learn anything: not even a FIN.
    if (!c.blackholed) this.closeClientSide(c, "server");
  }

  private closeClientSide(c: ProxyConn, by: string): void {
    if (c.clientClosed) return;
    c.clientClosed = true;
    this.markClosed(c, by);
    if (c.toClient.empty) c.client.end();
    else setTimeout(() => c.client.end(), 50); // let queued bytes (the close frame) go first
  }

  private destroy(c: ProxyConn, by: string): void {
    c.clientClosed = true;
    c.upstreamClosed = true;
    this.markClosed(c, by);
    c.client.terminate();
    c.upstream?.terminate();
  }

  private markClosed(c: ProxyConn, by: string): void {
    if (c.entry.closedAt !== undefined) return;
    c.entry.closedAt = Date.now();
    c.entry.closedBy = by;
    this.conns.delete(c);
  }
}
