// The one owner of the Slack connection. It decides when to connect, when a socket is
// dead (its own liveness clock, whatever the SDK thinks), how long to back off, and when
// to stop for good (revoked). Invariants:
//  - at most one connection, except during a Slack-announced refresh (make before break);
//  - a connection is destroyed before its replacement opens;
//  - every timer belongs to one generation: a timer of an old connection can do nothing;
//  - no rejection escapes: every failure is caught, counted and logged.
import type { Clock, Timer } from "./clock.ts";
import { backoffDelay } from "./backoff.ts";
import type { ConnectionHistory } from "./connection-history.ts";
import type { Logger } from "./logger.ts";
import { settleWithin } from "./wait.ts";

export interface Conn {
  readonly id: number;
  readonly isOpen: boolean;
  /** clock.mono() of the last frame, ping or pong from Slack. */
  lastActivityAt: number;
  /** clock.mono() of the hello. */
  helloAt: number | null;
  /** hello's num_connections: this app's open Socket Mode connections, this one included. */
  numConnections: number | null;
  /** Settles once the socket is closed (or destroyed). */
  readonly closed: Promise<void>;
  ack(envelopeId: string, payload?: unknown): boolean;
  ping(): void;
  close(): void;
  destroy(): void;
}

export interface ConnHandlers<E> {
  hello(conn: Conn): void;
  envelope(conn: Conn, env: E): void;
  disconnectMessage(conn: Conn, reason: string): void;
  closed(conn: Conn, why: string): void;
}

export interface SupervisorDeps<E> {
  /** apps.connections.open: the WebSocket URL, or throws. */
  openUrl(): Promise<string>;
  connect(url: string, handlers: ConnHandlers<E>): Conn;
  /** Every envelope of every live connection, with the function that acks it on that connection. */
  onEnvelope(env: E, ack: (payload?: unknown) => boolean): void;
  /**
   * After every hello that made a connection live (first connect, reconnect, handover);
   * `gapless` when it replaced a connection that was still open (a refresh with no gap).
   */
  onConnected?(info: { gapless: boolean }): void;
  /** Other processes share this app's connections by design (a cluster): no warning about them. */
  sharedApp?: boolean;
  /** A Slack error code or message if `err` means our credentials are gone for good. */
  terminalReason(err: unknown): string | null;
  log: Logger;
  clock: Clock;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  livenessTimeoutMs: number;
  random?: () => number;
  /** Where connects, drops and failed attempts are recorded (the status page reads it). */
  history?: ConnectionHistory;
}

export type SupervisorState = "idle" | "connecting" | "connected" | "backoff" | "revoked" | "stopped";

/** How long a new socket may take to say hello before it counts as a failed attempt. */
const HELLO_TIMEOUT_FACTOR = 1;
/** Pings per liveness timeout: a live peer gets a few chances to answer before we give up. */
const PINGS_PER_TIMEOUT = 3;
/** stop() waits this long at most for sockets to finish closing. */
const STOP_WAIT_MS = 1500;

export class Supervisor<E> {
  state: SupervisorState = "idle";
  /** Successful reconnections after the first connection. */
  reconnects = 0;
  /** Consecutive failed attempts (drives the backoff); total in failuresTotal. */
  failures = 0;
  failuresTotal = 0;
  connectedOnce = false;
  revokedReason: string | null = null;
  lastError: string | null = null;
  /** When the next attempt is due (in backoff), or the current one started. */
  nextAttemptAt: number | null = null;

  private active: Conn | null = null;
  /** The old connection during a refresh handover, closed when the new one says hello. */
  private retiring: Conn | null = null;
  private pending: Conn | null = null;
  private generation = 0;
  private timer: Timer | null = null;
  private livenessTimer: Timer | null = null;
  private helloTimer: Timer | null = null;
  /** Hello or envelope seen by the supervisor; pings and pongs are counted on the live socket. */
  private lastSeenAt: number | null = null;
  private readonly d: SupervisorDeps<E>;

  constructor(deps: SupervisorDeps<E>) {
    this.d = deps;
  }

  get connected(): boolean {
    return this.state === "connected" && this.active !== null;
  }

  /** The last sign of life from Slack (clock.mono()): hello, envelope, ping or pong. A quiet workspace still pongs. */
  get lastActivityAt(): number | null {
    const conn = this.active?.lastActivityAt ?? null;
    if (conn === null) return this.lastSeenAt;
    return this.lastSeenAt === null ? conn : Math.max(conn, this.lastSeenAt);
  }

  /** A refresh handover is under way: the live socket is retiring, its successor is not up yet. */
  get handingOver(): boolean {
    return this.retiring !== null;
  }

  start(): void {
    if (this.state !== "idle") return;
    this.schedule(0);
  }

  /** Stops for good: cancels every timer, closes every socket; resolves once they are closed (bounded). */
  stop(): Promise<void> {
    this.state = "stopped";
    this.generation++;
    this.clearTimers();
    const conns = [...new Set([this.active, this.pending, this.retiring])].filter((c): c is Conn => c !== null);
    this.active = this.pending = this.retiring = null;
    for (const c of conns) c.close();
    return settleWithin(
      conns.map((c) => c.closed),
      STOP_WAIT_MS,
      this.d.clock,
    );
  }

  /** Credentials are gone (tokens_revoked, app_uninstalled, link_disabled, invalid_auth): stop hammering Slack. */
  revoke(reason: string): void {
    if (this.state === "revoked" || this.state === "stopped") return;
    this.d.log.critical(`Slack access revoked (${reason}): not reconnecting; fix the app's tokens and restart clawdbot`, {
      reason,
    });
    void this.stop();
    this.d.history?.record("revoked", reason);
    this.state = "revoked";
    this.revokedReason = reason;
  }

  /** Replaces the live socket now (deaf socket found by the canary, or a test). */
  replace(why: string): void {
    if (this.state !== "connected" || !this.active) return;
    this.d.log.warn(`replacing Slack connection: ${why}`, { connection: this.active.id });
    this.drop(this.active, why);
  }

  private clearTimers(): void {
    for (const t of [this.timer, this.livenessTimer, this.helloTimer]) if (t) this.d.clock.clearTimeout(t);
    this.timer = this.livenessTimer = this.helloTimer = null;
  }

  private schedule(delayMs: number): void {
    if (this.state === "stopped" || this.state === "revoked") return;
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    this.nextAttemptAt = this.d.clock.now() + delayMs;
    const gen = this.generation;
    this.state = delayMs > 0 ? "backoff" : "connecting";
    this.timer = this.d.clock.setTimeout(() => {
      this.timer = null;
      if (gen !== this.generation) return;
      this.attempt().catch((err) => this.failed(`unexpected: ${String(err)}`));
    }, delayMs);
  }

  /**
   * Opens one socket. With `handover`, the live socket keeps working meanwhile (refresh):
   * a failure then is logged, not counted, and Slack's own close of the old socket starts
   * an ordinary reconnect.
   */
  private async attempt(handover = false): Promise<void> {
    const gen = this.generation;
    if (!handover) this.state = "connecting";
    let url: string;
    try {
      url = await this.d.openUrl();
    } catch (err) {
      if (gen !== this.generation) return;
      const terminal = this.d.terminalReason(err);
      if (terminal) return this.revoke(terminal);
      return this.pendingFailed(`apps.connections.open failed: ${errText(err)}`);
    }
    if (gen !== this.generation || this.state === "stopped" || this.state === "revoked") return;

    const conn = this.d.connect(url, {
      hello: (c) => this.onHello(c, gen),
      envelope: (c, env) => this.onEnvelope(c, env),
      disconnectMessage: (c, reason) => this.onDisconnectMessage(c, reason),
      closed: (c, why) => this.onClosed(c, why),
    });
    this.pending = conn;
    // A socket that never says hello is a failed attempt, not a hang.
    if (this.helloTimer) this.d.clock.clearTimeout(this.helloTimer);
    this.helloTimer = this.d.clock.setTimeout(() => {
      this.helloTimer = null;
      if (gen !== this.generation || this.pending !== conn) return;
      this.pending = null;
      conn.destroy();
      this.pendingFailed("no hello from Slack");
    }, this.d.livenessTimeoutMs * HELLO_TIMEOUT_FACTOR);
  }

  /** A new socket failed before hello: a failed attempt, unless the live one still serves (handover). */
  private pendingFailed(why: string): void {
    if (this.active && this.state === "connected") {
      // Let a later refresh message try again; the old socket works until Slack closes it.
      this.retiring = null;
      this.d.log.warn(`refresh handover failed: ${why}; keeping the current connection until Slack closes it`);
      return;
    }
    this.failed(why);
  }

  private onHello(conn: Conn, gen: number): void {
    if (this.pending !== conn || gen !== this.generation) {
      // A straggler from an attempt we gave up on: it must not live.
      if (conn !== this.active && conn !== this.retiring) conn.destroy();
      return;
    }
    this.pending = null;
    if (this.helloTimer) this.d.clock.clearTimeout(this.helloTimer);
    this.helloTimer = null;
    const old = this.active;
    const gapless = old !== null && old !== conn && old.isOpen;
    this.checkConnections(conn, gapless ? 2 : 1);
    this.active = conn;
    this.lastSeenAt = this.d.clock.mono();
    if (old && old !== conn) {
      // Make before break: the new socket is live, now the old one goes.
      old.close();
    }
    this.retiring = null;
    this.d.history?.record(this.connectedOnce ? "reconnected" : "connected");
    if (this.connectedOnce) this.reconnects++;
    this.connectedOnce = true;
    if (this.failures > 0) this.d.log.info(`connected to Slack after ${this.failures} failed attempts`);
    else this.d.log.info("connected to Slack", { connection: conn.id });
    this.failures = 0;
    this.state = "connected";
    this.watchLiveness(conn);
    try {
      this.d.onConnected?.({ gapless });
    } catch (err) {
      this.d.log.error(`after-connect hook failed: ${errText(err)}`);
    }
  }

  /** Slack counts more connections for this app than this process holds: someone else uses its token. */
  private checkConnections(conn: Conn, mine: number): void {
    const n = conn.numConnections;
    if (n === null || n <= mine || this.d.sharedApp) return;
    this.d.log.warn(
      `Slack says this app has ${n} Socket Mode connections open and this clawdbot holds ${mine}: another process uses the same app token ` +
        "(a second clawdbot, or a tool): Slack hands each event to one of them, so this one misses some. Stop the other, " +
        "or give it its own app; a cluster (CLAWDBOT_DATABASE_URL) shares connections by design. A clawdbot killed moments ago can still count for a minute.",
      { connection: conn.id, num_connections: n },
    );
  }

  /**
   * Replaces `conn` once nothing (envelope, ping, pong) came from it for the liveness
   * timeout. It pings a few times per timeout so a live but quiet peer has something to
   * answer, and checks again exactly when the deadline would pass.
   */
  private watchLiveness(conn: Conn): void {
    if (this.livenessTimer) this.d.clock.clearTimeout(this.livenessTimer);
    const gen = this.generation;
    const limit = this.d.livenessTimeoutMs;
    const pingEvery = Math.max(5, Math.floor(limit / PINGS_PER_TIMEOUT));
    let lastPingAt = this.d.clock.mono();
    const tick = () => {
      this.livenessTimer = null;
      if (gen !== this.generation || this.active !== conn) return;
      const now = this.d.clock.mono();
      const silentFor = now - conn.lastActivityAt;
      if (silentFor >= limit) {
        this.d.log.warn(`Slack connection silent for ${(silentFor / 1000).toFixed(1)} s: replacing it`, { connection: conn.id });
        this.drop(conn, "silent");
        return;
      }
      if (now - lastPingAt >= pingEvery) {
        conn.ping();
        lastPingAt = now;
      }
      const next = Math.min(pingEvery - (now - lastPingAt), limit - silentFor);
      this.livenessTimer = this.d.clock.setTimeout(tick, Math.max(1, next));
    };
    this.livenessTimer = this.d.clock.setTimeout(tick, Math.min(pingEvery, limit));
  }

  private onEnvelope(conn: Conn, env: E): void {
    if (conn === this.active) this.lastSeenAt = this.d.clock.mono();
    try {
      this.d.onEnvelope(env, (payload) => conn.ack((env as { envelope_id: string }).envelope_id, payload));
    } catch (err) {
      this.d.log.error(`envelope handler failed: ${errText(err)}`);
    }
  }

  private onDisconnectMessage(conn: Conn, reason: string): void {
    if (reason === "link_disabled") return this.revoke("link_disabled");
    if (reason === "too_many_websockets") return this.refused(conn);
    if (conn !== this.active || this.state !== "connected") return;
    // Slack may warn and then ask again: one successor at a time, or we would hold three sockets.
    if (this.retiring === conn) return;
    // warning / refresh_requested: open the new socket now, close this one on its hello.
    this.d.log.info(`Slack asked for a refresh (${reason}): opening a new connection first`, { connection: conn.id });
    this.retiring = conn;
    this.d.history?.record("refresh", reason);
    this.attempt(true).catch((err) => this.d.log.warn(`refresh handover failed: ${errText(err)}`));
  }

  /**
   * Slack will not have another connection for this app (10 at most): this socket counts as a
   * failed attempt and the next one waits out the backoff. Opening one at once, as for a refresh,
   * would only be refused again.
   */
  private refused(conn: Conn): void {
    const why = "Slack refused the connection: too_many_websockets (this app already has the 10 Socket Mode connections Slack allows; other processes use its app token)";
    if (conn === this.pending) {
      this.pending = null;
      conn.destroy();
      return this.pendingFailed(why);
    }
    if (conn !== this.active) return;
    this.generation++;
    this.clearTimers();
    this.pending?.destroy();
    this.pending = null;
    conn.destroy();
    this.active = this.retiring = null;
    this.failed(why);
  }

  private onClosed(conn: Conn, why: string): void {
    if (conn === this.retiring && this.active === conn && this.pending) {
      // Slack closed the old socket before its successor said hello: wait for that one.
      this.retiring = null;
      this.active = null;
      if (this.livenessTimer) this.d.clock.clearTimeout(this.livenessTimer);
      this.livenessTimer = null;
      conn.destroy();
      this.state = "connecting";
      this.d.log.info(`old connection closed during a refresh (${why}); waiting for the new one`, { connection: conn.id });
      return;
    }
    if (conn === this.pending) {
      this.pending = null;
      conn.destroy();
      return this.pendingFailed(`socket ${why} before hello`);
    }
    if (conn === this.active) this.drop(conn, why);
  }

  /** The live socket is gone: destroy it and reconnect at once (first attempt after a drop is immediate). */
  private drop(conn: Conn, why: string): void {
    if (this.state === "stopped" || this.state === "revoked") return;
    this.generation++;
    this.clearTimers();
    if (this.pending) {
      this.pending.destroy();
      this.pending = null;
    }
    conn.destroy();
    if (this.active === conn) this.active = null;
    if (this.retiring === conn) this.retiring = null;
    this.d.history?.record("dropped", why);
    this.d.log.warn(`Slack connection lost (${why}): reconnecting`, { connection: conn.id });
    this.schedule(0);
  }

  private failed(why: string): void {
    if (this.state === "stopped" || this.state === "revoked") return;
    this.d.history?.record("failed", why);
    this.failures++;
    this.failuresTotal++;
    this.lastError = why;
    const delayMs = backoffDelay(this.failures, {
      initialMs: this.d.reconnectInitialMs,
      maxMs: this.d.reconnectMaxMs,
      random: this.d.random,
    });
    // One line per failed attempt, with when the next one is.
    this.d.log.warn(`Slack connection attempt failed: ${why} (failures: ${this.failures}); retrying in ${(delayMs / 1000).toFixed(1)} s`);
    this.generation++;
    this.clearTimers();
    this.schedule(delayMs);
  }
}


export function errText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
