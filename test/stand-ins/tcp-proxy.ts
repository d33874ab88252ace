// A TCP proxy in front of a server (the test PostgreSQL), for network faults at the boundary:
// `cut()` drops every connection and refuses new ones (the database unreachable), `restore()`
// listens again on the same port, `hang()` keeps connections open but forwards nothing until
// `restore()` (a network that holds packets: TCP delivers them when it heals).
import type { Socket, TCPSocketListener } from "bun";

interface Pipe {
  /** Bytes waiting for the other side to connect, or to drain. */
  pending: Uint8Array[];
  peer: Socket<Pipe> | null;
}

function send(to: Socket<Pipe>, chunk: Uint8Array): void {
  if (to.data.pending.length) {
    to.data.pending.push(chunk);
    return;
  }
  const n = to.write(chunk);
  if (n < chunk.byteLength) to.data.pending.push(chunk.subarray(n));
}

function flush(s: Socket<Pipe>): void {
  while (s.data.pending.length) {
    const chunk = s.data.pending[0] as Uint8Array;
    const n = s.write(chunk);
    if (n < chunk.byteLength) {
      s.data.pending[0] = chunk.subarray(n);
      return;
    }
    s.data.pending.shift();
  }
}

export class TcpProxy {
  private listener: TCPSocketListener<Pipe> | null = null;
  private readonly sockets = new Set<Socket<Pipe>>();
  private hanging = false;
  /** What arrived while hanging, to deliver on restore. */
  private held: { to: Socket<Pipe>; chunk: Uint8Array }[] = [];
  port = 0;

  private constructor(private readonly targetPort: number) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    const p = new TcpProxy(targetPort);
    p.listen(0);
    return p;
  }

  private listen(port: number): void {
    this.listener = Bun.listen<Pipe>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (client) => {
          client.data = { pending: [], peer: null };
          this.sockets.add(client);
          void Bun.connect<Pipe>({
            hostname: "127.0.0.1",
            port: this.targetPort,
            socket: {
              open: (upstream) => {
                upstream.data = { pending: client.data.pending.splice(0), peer: client };
                this.sockets.add(upstream);
                client.data.peer = upstream;
                flush(upstream);
              },
              data: (_upstream, chunk) => this.forward(client, new Uint8Array(chunk)),
              drain: (upstream) => flush(upstream),
              close: (upstream) => {
                this.sockets.delete(upstream);
                client.end();
              },
              error: () => void client.end(),
            },
          }).catch(() => client.end());
        },
        data: (client, chunk) => {
          const up = client.data.peer;
          if (up) this.forward(up, new Uint8Array(chunk));
          else client.data.pending.push(new Uint8Array(chunk));
        },
        drain: (client) => flush(client),
        close: (client) => {
          this.sockets.delete(client);
          client.data.peer?.end();
        },
        error: () => {},
      },
    });
    this.port = this.listener.port;
  }

  private forward(to: Socket<Pipe>, chunk: Uint8Array): void {
    if (this.hanging) this.held.push({ to, chunk });
    else send(to, chunk);
  }

  /** Every connection dropped at once, and new ones refused: the database is unreachable. */
  cut(): void {
    this.listener?.stop(true);
    this.listener = null;
    for (const s of this.sockets) s.terminate();
    this.sockets.clear();
    this.held = [];
  }

  /** The database is reachable again, on the same port. */
  restore(): void {
    this.hanging = false;
    for (const { to, chunk } of this.held.splice(0)) send(to, chunk);
    if (!this.listener) this.listen(this.port);
  }

  /** Connections stay open but nothing goes through: queries hang. */
  hang(): void {
    this.hanging = true;
  }

  stop(): void {
    this.cut();
  }
}
