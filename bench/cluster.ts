// Run by hand: `bun bench/cluster.ts [N]`. The compiled bot (dist/clawdbot, separate
// processes as in production) against the local emulator, each comparison in one run:
//  1. the store's cost: one instance on PostgreSQL against one on SQLite, echo agent, a burst
//     of N DMs (target: PostgreSQL at least 0.5x SQLite's events/s);
//  2. coordination's cost: with an agent that takes 200 ms (real agents are slow), two
//     instances on one database against one, a burst of N/2 DMs (target: at least 1.8x).
// PostgreSQL is the test helper's private server (fsync off, like the tests: this measures
// the bot's round trips, not a disk) or CLAWDBOT_TEST_DATABASE_URL. Loopback only.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../src/emulator/index.ts";
import { type BotProcess, botEnv, cleanup, ensureBinary, spawnBot, startEmulator, tempDir } from "../test/helpers/bot.ts";
import { freshDatabase, stopPostgres } from "../test/helpers/postgres.ts";
import { type BurstResult, burst } from "./burst.ts";

const N = Number(process.argv[2] ?? 1000);
const USERS = 20;

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
    await Promise.all(bots.map((b) => b.healthPort()));
    await emu.waitFor(() => emu.openConnections() === instances.length, { what: "sockets", timeoutMs: 30_000 });
    return await burst(emu, name, n, USERS, 300_000);
  } finally {
    for (const b of bots) b.proc.kill("SIGTERM");
    await Promise.all(bots.map((b) => b.exited));
    await emu.stop();
    for (const d of dirs) cleanup(d);
  }
}

function show(title: string, rs: BurstResult[], ratio: string): void {
  console.log(`\n${title}`);
  for (const r of rs) {
    console.log(
      `  ${r.name.padEnd(28)} ${r.eventsPerS.toFixed(1).padStart(7)} events/s (all replies in ${r.totalMs.toFixed(0)} ms), ack p50 ${r.ackP50} ms, p99 ${r.ackP99} ms`,
    );
  }
  console.log(`  ${ratio}`);
}

// 1. The store's cost.
const sqlite = await run("one instance, SQLite", N, [{}]);
const pg = await run("one instance, PostgreSQL", N, [{ CLAWDBOT_DATABASE_URL: await freshDatabase("bench") }]);
show(`burst of ${N} DMs (${USERS} users), echo agent:`, [sqlite, pg], `PostgreSQL / SQLite = ${(pg.eventsPerS / sqlite.eventsPerS).toFixed(2)}x (target >= 0.5x)`);

// 2. Coordination's cost, with a slow agent.
const agent = join(scratch, "agent-200ms.sh");
writeFileSync(agent, "#!/bin/sh\nsleep 0.2\necho answered\ncat\n");
chmodSync(agent, 0o755);
const slow = { CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: agent };
const n2 = Math.max(50, Math.floor(N / 2));
const oneDb = await freshDatabase("bench");
const one = await run("one instance, PostgreSQL", n2, [{ ...slow, CLAWDBOT_DATABASE_URL: oneDb }]);
const twoDb = await freshDatabase("bench");
const two = await run("two instances, one PostgreSQL", n2, [
  { ...slow, CLAWDBOT_DATABASE_URL: twoDb },
  { ...slow, CLAWDBOT_DATABASE_URL: twoDb },
]);
show(`burst of ${n2} DMs (${USERS} users), agent taking 200 ms:`, [one, two], `two / one = ${(two.eventsPerS / one.eventsPerS).toFixed(2)}x (target >= 1.8x)`);

cleanup(scratch);
await stopPostgres();
process.exit(0);
