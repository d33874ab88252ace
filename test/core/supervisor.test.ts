// The supervisor with a fake clock and fake sockets: liveness, stale timers, handover,
// revocation, exactly as the invariants at the top of supervisor.ts say.
import { expect, test } from "bun:test";
import type { Clock, Timer } from "../../src/core/clock.ts";
import { ConnectionHistory } from "../../src/core/connection-history.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { type Conn, type ConnHandlers, Supervisor } from "../../src/core/supervisor.ts";
import { judgeStatus } from "../../src/health/status.ts";

/** `t` is the steady (monotonic) time timers run on; the wall clock is `t` plus `wallOffset`, which a test may jump. */
class FakeClock implements Clock {
  t = 1_000_000;
  wallOffset = 1_700_000_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  now = () => this.t + this.wallOffset;
  mono = () => this.t;
  setTimeout = (fn: () => void, ms: number): Timer => {
    const id = this.next++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id as unknown as Timer;
  };
  clearTimeout = (t: Timer): void => {
    this.timers = this.timers.filter((x) => x.id !== (t as unknown as number));
  };
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

class FakeConn implements Conn {
  static nextId = 1;
  readonly id = FakeConn.nextId++;
  isOpen = true;
  lastActivityAt: number;
  helloAt: number | null = null;
  numConnections: number | null = null;
  pings = 0;
  state: "open" | "closed" | "destroyed" = "open";
  /** Whether a ping is answered by a pong (a live peer). */
  pongs = true;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  constructor(
    private readonly clock: FakeClock,
    readonly h: ConnHandlers<{ envelope_id: string }>,
  ) {
    this.lastActivityAt = clock.mono();
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
  }
  hello(numConnections: number | null = null): void {
    this.numConnections = numConnections;
    this.helloAt = this.lastActivityAt = this.clock.mono();
    this.h.hello(this);
  }
  ack(): boolean {
    return this.isOpen;
  }
  ping(): void {
    this.pings++;
    if (this.pongs) this.lastActivityAt = this.clock.mono();
  }
  close(): void {
    this.end("closed");
  }
  destroy(): void {
    this.end("destroyed");
  }
  private end(s: "closed" | "destroyed"): void {
    if (this.state === "open") this.state = s;
    this.isOpen = false;
    this.resolveClosed();
  }
}


function make(
  opts: { openUrl?: () => Promise<string>; terminal?: (e: unknown) => string | null; sharedApp?: boolean; history?: (c: Clock) => ConnectionHistory } = {},
) {
  const clock = new FakeClock();
  const conns: FakeConn[] = [];
  const connected: { gapless: boolean }[] = [];
  const log = memoryLogger();
  let opens = 0;
  const sup = new Supervisor<{ envelope_id: string }>({
    clock,
    log,
    sharedApp: opts.sharedApp,
    onConnected: (info) => void connected.push(info),
    reconnectInitialMs: 1000,
    reconnectMaxMs: 8000,
    livenessTimeoutMs: 3000,
    random: () => 0,
    openUrl: async () => {
      opens++;
      return opts.openUrl ? opts.openUrl() : "ws://x";
    },
    connect: (_url, h) => {
      const c = new FakeConn(clock, h as ConnHandlers<{ envelope_id: string }>);
      conns.push(c);
      return c;
    },
    onEnvelope: () => {},
    terminalReason: opts.terminal ?? (() => null),
    history: opts.history?.(clock),
  });
  const live = () => conns.filter((c) => c.state === "open");
  return { clock, conns, sup, live, opens: () => opens, connected, log };
}

test("a silent socket is replaced at the liveness timeout; one that pongs is kept", async () => {
  const { clock, conns, sup, live } = make();
  sup.start();
  await clock.advance(0);
  conns[0]!.hello();
  await clock.advance(10_000);
  expect(conns.length).toBe(1); // pongs keep it alive through a quiet spell
  expect(conns[0]!.pings).toBeGreaterThan(3);
  conns[0]!.pongs = false;
  const silentFrom = conns[0]!.lastActivityAt;
  await clock.advance(2999 - (clock.t - silentFrom));
  expect(conns[0]!.state).toBe("open");
  await clock.advance(1);
  expect(conns[0]!.state).toBe("destroyed");
  expect(conns.length).toBe(2); // reconnected at once
  expect(live().length).toBe(1);
});

test("the wall clock jumping forward an hour replaces no live socket; after a jump back a silent one is replaced on time", async () => {
  const { clock, conns, sup } = make();
  sup.start();
  await clock.advance(0);
  conns[0]!.hello();
  await clock.advance(1000);
  clock.wallOffset += 60 * 60 * 1000;
  await clock.advance(10_000);
  expect(conns.length).toBe(1); // nothing fired early
  expect(conns[0]!.state).toBe("open");
  expect(health(clock, sup)).toBe("ok");

  clock.wallOffset -= 2 * 60 * 60 * 1000;
  conns[0]!.pongs = false;
  const silentFrom = conns[0]!.lastActivityAt;
  await clock.advance(2999 - (clock.t - silentFrom));
  expect(conns[0]!.state).toBe("open");
  expect(health(clock, sup)).toBe("stale"); // silent past CLAWDBOT_STALE_AFTER (2 s here), the jump notwithstanding
  await clock.advance(1);
  expect(conns[0]!.state).toBe("destroyed"); // at the liveness timeout, not an hour late
  expect(conns.length).toBe(2);
});

/** What health says of the supervisor now, with a stale-after of 2 s. */
function health(clock: FakeClock, sup: Supervisor<{ envelope_id: string }>): string {
  return judgeStatus({ mono: clock.mono(), staleAfterMs: 2000, revokedReason: null, socket: sup, identityKnown: true, canary: "off", failingWorkers: [] }).status;
}

test("a timer of an old connection cannot start another; a straggler hello is destroyed", async () => {
  const { clock, conns, sup, live, opens } = make();
  sup.start();
  await clock.advance(0);
  conns[0]!.hello();
  conns[0]!.h.closed(conns[0]!, "closed (1006)");
  await clock.advance(0);
  expect(conns.length).toBe(2);
  conns[1]!.hello();
  // Old liveness / hello timers would fire in this span if they survived.
  await clock.advance(2500);
  expect(opens()).toBe(2);
  // A socket from an abandoned attempt that says hello late must not live.
  conns[0]!.h.hello(conns[0]!);
  expect(live()).toEqual([conns[1]!]);
  expect(sup.connected).toBe(true);
});

test("no hello in time: a failed attempt, then backoff doubles", async () => {
  const { clock, conns, sup, opens } = make();
  sup.start();
  await clock.advance(0);
  await clock.advance(3000); // hello timeout
  expect(conns[0]!.state).toBe("destroyed");
  expect(sup.failures).toBe(1);
  expect(sup.state).toBe("backoff");
  await clock.advance(999);
  expect(opens()).toBe(1);
  await clock.advance(1);
  expect(opens()).toBe(2);
  await clock.advance(3000); // second failure → 2000 ms
  await clock.advance(1999);
  expect(opens()).toBe(2);
  await clock.advance(1);
  expect(opens()).toBe(3);
  conns[2]!.hello();
  expect(sup.failures).toBe(0);
});

test("refresh: one successor even when asked twice, old closed on its hello, never more than two", async () => {
  const { clock, conns, sup, live } = make();
  sup.start();
  await clock.advance(0);
  conns[0]!.hello();
  conns[0]!.h.disconnectMessage(conns[0]!, "warning");
  conns[0]!.h.disconnectMessage(conns[0]!, "refresh_requested");
  await clock.advance(0);
  expect(conns.length).toBe(2);
  expect(live().length).toBe(2);
  expect(sup.connected).toBe(true);
  conns[1]!.hello();
  expect(conns[0]!.state).toBe("closed");
  expect(live()).toEqual([conns[1]!]);
  expect(sup.reconnects).toBe(1);
});

test("refresh whose new socket fails: the old one keeps serving, no failure counted", async () => {
  const { clock, conns, sup } = make();
  sup.start();
  await clock.advance(0);
  conns[0]!.hello();
  conns[0]!.h.disconnectMessage(conns[0]!, "refresh_requested");
  await clock.advance(0);
  conns[1]!.h.closed(conns[1]!, "closed (1006)");
  expect(sup.state).toBe("connected");
  expect(sup.failures).toBe(0);
  expect(conns[0]!.state).toBe("open");
  // Slack then closes the old one: an ordinary immediate reconnect.
  conns[0]!.h.closed(conns[0]!, "closed (1000)");
  await clock.advance(0);
  expect(conns.length).toBe(3);
});

test("old socket closed by Slack before its successor's hello: the successor is kept", async () => {
  const { clock, conns, sup, live } = make();
  sup.start();
  await clock.advance(0);
  conns[0]!.hello();
  conns[0]!.h.disconnectMessage(conns[0]!, "refresh_requested");
  await clock.advance(0);
  conns[0]!.h.closed(conns[0]!, "closed (1000)");
  expect(conns[1]!.state).toBe("open");
  conns[1]!.hello();
  expect(sup.connected).toBe(true);
  expect(conns.length).toBe(2);
  expect(live()).toEqual([conns[1]!]);
});

test("terminal error: revoked, every socket closed, no more attempts; link_disabled too", async () => {
  const { clock, sup, opens } = make({
    openUrl: async () => {
      throw new Error("invalid_auth");
    },
    terminal: (e) => ((e as Error).message === "invalid_auth" ? "invalid_auth" : null),
  });
  sup.start();
  await clock.advance(60_000);
  expect(sup.state).toBe("revoked");
  expect(sup.revokedReason).toBe("invalid_auth");
  expect(opens()).toBe(1);

  const b = make();
  b.sup.start();
  await b.clock.advance(0);
  b.conns[0]!.hello();
  b.conns[0]!.h.disconnectMessage(b.conns[0]!, "link_disabled");
  await b.clock.advance(60_000);
  expect(b.sup.state).toBe("revoked");
  expect(b.live()).toEqual([]);
  expect(b.opens()).toBe(1);
});

test("stop closes every socket and resolves once they are closed", async () => {
  const { clock, conns, sup, live } = make();
  sup.start();
  await clock.advance(0);
  conns[0]!.hello();
  conns[0]!.h.disconnectMessage(conns[0]!, "refresh_requested");
  await clock.advance(0);
  await sup.stop();
  expect(live()).toEqual([]);
  await clock.advance(60_000);
  expect(conns.length).toBe(2);
});

test("the history records connects, drops, failed attempts, refreshes and revocation, newest first; downSince while down", async () => {
  let failOpen = false;
  let history!: ConnectionHistory;
  const { clock, conns, sup } = make({
    openUrl: async () => {
      if (failOpen) throw new Error("connect ECONNREFUSED");
      return "ws://x";
    },
    terminal: (e) => ((e as Error).message === "invalid_auth" ? "invalid_auth" : null),
    history: (c) => (history = new ConnectionHistory(c)),
  });
  sup.start();
  await clock.advance(0);
  conns[0]!.hello();
  expect(history.downSince).toBeNull();
  conns[0]!.h.disconnectMessage(conns[0]!, "refresh_requested");
  await clock.advance(0);
  conns[1]!.hello();
  failOpen = true;
  const droppedAt = clock.now();
  conns[1]!.h.closed(conns[1]!, "closed (1006)");
  await clock.advance(0); // the immediate attempt fails: backoff 1000 ms
  expect(sup.state).toBe("backoff");
  expect(sup.nextAttemptAt).toBe(clock.now() + 1000);
  expect(history.downSince).toBe(droppedAt);
  await clock.advance(1000); // a second failure does not move downSince
  expect(history.downSince).toBe(droppedAt);
  failOpen = false;
  await clock.advance(2000);
  conns[2]!.hello();
  expect(history.downSince).toBeNull();
  sup.revoke("invalid_auth");
  expect(history.recent().map((e) => [e.kind, e.detail])).toEqual([
    ["revoked", "invalid_auth"],
    ["reconnected", undefined],
    ["failed", "apps.connections.open failed: connect ECONNREFUSED"],
    ["failed", "apps.connections.open failed: connect ECONNREFUSED"],
    ["dropped", "closed (1006)"],
    ["reconnected", undefined],
    ["refresh", "refresh_requested"],
    ["connected", undefined],
  ]);
  expect(history.recent(2).map((e) => e.kind)).toEqual(["revoked", "reconnected"]);
});

test("too_many_websockets on the live socket: a failed attempt with backoff, not a refresh", async () => {
  const { clock, conns, sup, live, opens, log } = make();
  sup.start();
  await clock.advance(0);
  conns[0]!.hello();
  conns[0]!.h.disconnectMessage(conns[0]!, "too_many_websockets");
  await clock.advance(0);
  expect(conns[0]!.state).toBe("destroyed");
  expect(live()).toEqual([]);
  expect(sup.failures).toBe(1);
  expect(sup.state).toBe("backoff");
  await clock.advance(999);
  expect(opens()).toBe(1);
  await clock.advance(1);
  expect(opens()).toBe(2);
  expect(log.lines.some((l) => l.level === "warn" && l.msg.includes("too_many_websockets"))).toBe(true);
});

test("a new socket refused with too_many_websockets: each refusal a failed attempt, the backoff doubles", async () => {
  const { clock, conns, sup, opens } = make();
  sup.start();
  await clock.advance(0);
  conns[0]!.h.disconnectMessage(conns[0]!, "too_many_websockets");
  expect(sup.failures).toBe(1);
  await clock.advance(1000);
  expect(opens()).toBe(2);
  conns[1]!.h.disconnectMessage(conns[1]!, "too_many_websockets");
  expect(sup.failures).toBe(2);
  await clock.advance(1999);
  expect(opens()).toBe(2);
  await clock.advance(1);
  expect(opens()).toBe(3);
  conns[2]!.hello(1);
  expect(sup.connected).toBe(true);
  expect(sup.failures).toBe(0);
});

test("hello counting more connections than this process holds is a warning; not during a handover, not in a cluster", async () => {
  const warnings = (l: ReturnType<typeof memoryLogger>) => l.lines.filter((x) => x.level === "warn" && x.msg.includes("Socket Mode connections open"));
  const alone = make();
  alone.sup.start();
  await alone.clock.advance(0);
  alone.conns[0]!.hello(1);
  expect(warnings(alone.log)).toHaveLength(0);
  alone.conns[0]!.h.disconnectMessage(alone.conns[0]!, "refresh_requested");
  await alone.clock.advance(0);
  alone.conns[1]!.hello(2); // the old one and its successor: both ours
  expect(warnings(alone.log)).toHaveLength(0);

  const shared = make();
  shared.sup.start();
  await shared.clock.advance(0);
  shared.conns[0]!.hello(2);
  expect(warnings(shared.log)).toHaveLength(1);
  expect(warnings(shared.log)[0]?.msg).toContain("CLAWDBOT_DATABASE_URL");

  const cluster = make({ sharedApp: true });
  cluster.sup.start();
  await cluster.clock.advance(0);
  cluster.conns[0]!.hello(3);
  expect(warnings(cluster.log)).toHaveLength(0);
});

test("a refresh whose old socket was still open at the new hello is gapless; a first connect and a reconnect after a drop are not", async () => {
  const { clock, conns, sup, connected } = make();
  sup.start();
  await clock.advance(0);
  conns[0]!.hello();
  conns[0]!.h.disconnectMessage(conns[0]!, "refresh_requested");
  await clock.advance(0);
  conns[1]!.hello();
  // Slack closed the old one before its successor said hello: a gap.
  conns[1]!.h.disconnectMessage(conns[1]!, "warning");
  await clock.advance(0);
  conns[1]!.h.closed(conns[1]!, "closed (1000)");
  conns[2]!.hello();
  conns[2]!.h.closed(conns[2]!, "closed (1006)");
  await clock.advance(0);
  conns[3]!.hello();
  expect(connected).toEqual([{ gapless: false }, { gapless: true }, { gapless: false }, { gapless: false }]);
});
