// Run by hand: `bun bench/sign-of-life.ts [N]`. Time from a DM to the first thing the user
// sees (the sign of life: a reaction on a top-level DM), p50/p99 over N DMs (default 200),
// on the local Slack emulator with the in-process runtime:
//  - a slow agent (a command that takes 5 s; the sign must not wait for it or for a free slot),
//    DMs spaced 20 ms apart, then all at once;
//  - the echo agent (answers at once), all at once: the first visible thing, sign or answer.
// Loopback only, bounded in count and time.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WORKING_REACTION } from "../src/core/sign-of-life.ts";
import type { SlackEmulator } from "../src/emulator/index.ts";
import { cleanup, startBot, startEmulator, tempDir } from "../test/helpers/bot.ts";

const N = Number(process.argv[2] ?? 200);
const USERS = 20;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

interface Row {
  name: string;
  seen: number;
  p50: number;
  p99: number;
  max: number;
}

/** Sends N DMs (`gapMs` apart; 0: at once) and waits (at most 60 s) for each one's first visible sign. */
async function run(emu: SlackEmulator, name: string, gapMs: number, answerCounts: boolean): Promise<Row> {
  const sentAt = new Map<string, number>();
  const firstSeen = new Map<string, number>();
  const off = emu.onMessage((m) => {
    // The echo answer quotes the DM: the first visible thing may be the answer itself.
    const tag = answerCounts && m.bot_id ? /sol-\d+-\d+/.exec(m.text)?.[0] : undefined;
    if (tag && !firstSeen.has(tag)) firstSeen.set(tag, Date.now());
  });
  const byTs = new Map<string, string>();
  const before = emu.reactionLog.length;
  const run = crypto.randomUUID().slice(0, 4);
  for (let i = 0; i < N; i++) {
    const tag = `sol-${Number.parseInt(run, 16)}-${i}`;
    const d = emu.dm(`US${i % USERS}`, `bench ${tag}`);
    sentAt.set(tag, Date.now());
    byTs.set(`${d.channel}/${d.ts}`, tag);
    if (gapMs) await Bun.sleep(gapMs);
  }
  const deadline = Date.now() + 60_000;
  let scanned = before;
  while (firstSeen.size < N && Date.now() < deadline) {
    for (; scanned < emu.reactionLog.length; scanned++) {
      const r = emu.reactionLog[scanned];
      const tag = r && r.action === "add" && r.name === WORKING_REACTION ? byTs.get(`${r.channel}/${r.ts}`) : undefined;
      // The emulator stamps each reaction with Date.now() as it takes it: the clock the DMs were sent by.
      if (tag && r && !firstSeen.has(tag)) firstSeen.set(tag, r.at);
    }
    await Bun.sleep(1);
  }
  off();
  const lat = [...firstSeen].map(([tag, at]) => at - (sentAt.get(tag) ?? at));
  if (firstSeen.size < N) console.error(`${name}: only ${firstSeen.size}/${N} signs in 60 s`);
  return { name, seen: firstSeen.size, p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat) };
}

async function withBot<T>(env: Record<string, string>, fn: (emu: SlackEmulator) => Promise<T>): Promise<T> {
  const emu = await startEmulator();
  const dir = tempDir("clawdbot-bench-");
  const bot = await startBot(emu, { CLAWDBOT_CONSOLE_LEVEL: "0", ...env }, dir);
  await emu.waitFor(() => emu.openConnections() === 1);
  try {
    return await fn(emu);
  } finally {
    await bot.stop();
    await emu.stop();
    cleanup(dir);
  }
}

const scripts = tempDir("clawdbot-bench-agent-");
const slow = join(scripts, "slow-agent.sh");
writeFileSync(slow, "#!/bin/sh\ncat > /dev/null\nsleep 5\necho done\n");
chmodSync(slow, 0o755);
const slowEnv = { CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: slow, CLAWDBOT_AGENT_TIMEOUT: "30" };

const rows: Row[] = [];
rows.push(await withBot(slowEnv, (emu) => run(emu, "slow agent (5 s), DMs 20 ms apart", 20, false)));
rows.push(await withBot(slowEnv, (emu) => run(emu, "slow agent (5 s), all at once", 0, false)));
rows.push(await withBot({}, (emu) => run(emu, "echo agent, all at once (sign or answer)", 0, true)));
cleanup(scripts);

console.log(`\nDM → first visible sign, ${N} DMs from ${USERS} users (ms)\n`);
console.log("| | seen | p50 | p99 | max |");
console.log("|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.name} | ${r.seen}/${N} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.max.toFixed(0)} |`);
process.exit(0);
