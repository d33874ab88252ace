// Run by hand: `bun bench/cluster.ts [N] [ROUNDS]`. The compiled bot (dist/clawdbot, separate
// processes as in production) against the local emulator, each comparison in one run, its
// two sides alternating for ROUNDS rounds (default 3) and the medians compared, so a busy
// machine's noise falls on both sides alike:
//  1. the store's cost: one instance on PostgreSQL against one on SQLite, echo agent, a burst
//     of N DMs (target: PostgreSQL at least 0.5x SQLite's events/s);
//  2. coordination's cost: with an agent that takes 200 ms (real agents are slow), two
//     instances on one database against one, a burst of N/2 DMs (target: at least 1.8x).
// PostgreSQL is the test helper's private server (fsync off, like the tests: this measures
// the bot's round trips, not a disk) or CLAWDBOT_TEST_DATABASE_URL. Loopback only.
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HealthSnapshot } from "../src/core/health-types.ts";
import type { SlackEmulator } from "../src/emulator/index.ts";
import { type BotProcess, botEnv, cleanup, ensureBinary, spawnBot, startEmulator, tempDir, waitFor } from "../test/helpers/bot.ts";
import { freshDatabase, stopPostgres } from "../test/helpers/postgres.ts";
import { type BurstResult, burst } from "./burst.ts";

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 3);
const USERS = 20;

/** CPU time (ms) a process used so far, from /proc (Linux; 0 elsewhere). */
function cpuMs(pid: number): number {
  try {
    const f = (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

/** CPU time of every PostgreSQL backend on this machine (the private server's). */
function postgresCpuMs(): number {
  let ms = 0;
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8").startsWith("postgres:")) ms += cpuMs(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return ms;
}

await ensureBinary();
const scratch = tempDir("clawdbot-bench-cluster-");

/** Starts `instances` compiled bots with `env` (plus their own data dir), waits for their sockets, runs the burst. */
async function run(name: string, n: number, instances: Record<string, string>[]): Promise<BurstResult> {
  const emu: SlackEmulator = await startEmulator();
  const bots: BotProcess[] = [];
  const dirs: string[] = [];
  try {
    for (const [i, extra] of instances.entries()) {
      const dir = tempDir("clawdbot-bench-");
      dirs.push(dir);
      // Console at warnings: the harness still reads the health port from the start-up line.
      bots.push(await spawnBot(["run"], botEnv(emu, dir, { CLAWDBOT_INSTANCE_ID: `bench-${i}`, ...extra })));
    }
    const ports = await Promise.all(bots.map((b) => b.healthPort()));
    await emu.waitFor(() => emu.openConnections() === instances.length, { what: "sockets", timeoutMs: 30_000 });
    // The start-up catch-up done first: running during the burst it would find the burst's
    // messages in history and take them from the instance Slack gave them to.
    for (const port of ports) {
      await waitFor(async () => ((await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as HealthSnapshot).workers.catchup?.runs, "catch-up", 30_000);
    }
    const [bot0, pg0] = [bots.reduce((t, b) => t + cpuMs(b.proc.pid), 0), postgresCpuMs()];
    const r = await burst(emu, name, n, USERS, 300_000);
    const [bot1, pg1] = [bots.reduce((t, b) => t + cpuMs(b.proc.pid), 0), postgresCpuMs()];
    // CPU per 1,000 events: where the store's cost goes.
    const per = (ms: number) => ((ms * 1000) / n / 1000).toFixed(2);
    r.name += ` [cpu/1k: bot ${per(bot1 - bot0)} s, postgres ${per(pg1 - pg0)} s]`;
    return r;
  } finally {
    for (const b of bots) b.proc.kill("SIGTERM");
    await Promise.all(bots.map((b) => b.exited));
    await emu.stop();
    for (const d of dirs) cleanup(d);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Runs the two sides in turn ROUNDS times; prints each run and the medians' ratio. */
async function compare(title: string, target: number, sides: [string, () => Promise<BurstResult>][]): Promise<void> {
  console.log(`\n${title}`);
  const rates: number[][] = sides.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, go]] of sides.entries()) {
      const r = await go();
      rates[i]?.push(r.eventsPerS);
      console.log(
        `  ${r.name.padEnd(70)} ${r.eventsPerS.toFixed(1).padStart(7)} events/s (all replies in ${r.totalMs.toFixed(0)} ms), ack p50 ${r.ackP50} ms, p99 ${r.ackP99} ms`,
      );
    }
  }
  const [a, b] = rates.map(median) as [number, number];
  console.log(`  medians: ${sides[0]?.[0]} ${a.toFixed(1)}, ${sides[1]?.[0]} ${b.toFixed(1)} events/s: ${(b / a).toFixed(2)}x (target >= ${target}x)`);
}

// 1. The store's cost.
await compare(`burst of ${N} DMs (${USERS} users), echo agent, ${ROUNDS} rounds:`, 0.5, [
  ["SQLite", () => run("one instance, SQLite", N, [{}])],
  ["PostgreSQL", async () => run("one instance, PostgreSQL", N, [{ CLAWDBOT_DATABASE_URL: await freshDatabase("bench") }])],
]);

// 2. Coordination's cost, with a slow agent.
// One bash per message and nothing else: it waits 200 ms on a FIFO nobody writes (a builtin
// read with a timeout), so spawning sleep and cat does not eat the 2 cores the bots share.
const fifo = join(scratch, "never");
Bun.spawnSync(["mkfifo", fifo]);
const agent = join(scratch, "agent-200ms.sh");
writeFileSync(agent, `#!/bin/bash\nIFS= read -r line\nread -t 0.2 -u 9 9<>"${fifo}"\nprintf 'answered %s\\n' "$line"\n`);
chmodSync(agent, 0o755);
const slow = { CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: agent };
const n2 = Math.max(50, Math.floor(N / 2));
await compare(`burst of ${n2} DMs (${USERS} users), agent taking 200 ms, ${ROUNDS} rounds:`, 1.8, [
  ["one", async () => run("one instance, PostgreSQL", n2, [{ ...slow, CLAWDBOT_DATABASE_URL: await freshDatabase("bench") }])],
  [
    "two",
    async () => {
      const url = await freshDatabase("bench");
      return run("two instances, one PostgreSQL", n2, [
        { ...slow, CLAWDBOT_DATABASE_URL: url },
        { ...slow, CLAWDBOT_DATABASE_URL: url },
      ]);
    },
  ],
]);

cleanup(scratch);
await stopPostgres();
process.exit(0);
