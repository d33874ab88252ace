// Run by hand: `bun bench/startup.ts [--runs N]`. Cold starts of the compiled executable
// (dist/clawdbot, rebuilt if older than src/; CLAWDBOT_SKIP_BUILD=1 times the one there):
// the wall time from spawn to exit of `--version`, `health` against a closed port, `health`
// against a running bot, and `state dump --json` of that bot's small store, beside a
// trivial compiled Bun program (the floor no executable gets under). The commands take
// turns run by run, so a machine that slows down mid-run slows all of them alike.
import { join } from "node:path";
import { SlackEmulator } from "../src/emulator/index.ts";
import { VERSION } from "../src/version.ts";
import { botEnv, cleanup, ensureBinary, spawnBot, tempDir, waitFor } from "../test/helpers/bot.ts";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const RUNS = arg("runs", 30);
const WARMUP = 2;

interface Case {
  name: string;
  argv: string[];
  /** Checked on the first warm-up run: a fast command that does the wrong thing measures nothing. */
  check(exitCode: number, out: string): boolean;
}

async function once(argv: string[], capture: boolean): Promise<{ ms: number; exitCode: number; out: string }> {
  const t0 = performance.now();
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: capture ? "pipe" : "ignore", stderr: capture ? "pipe" : "ignore" });
  const out = capture ? (await new Response(p.stdout).text()) + (await new Response(p.stderr).text()) : "";
  const exitCode = await p.exited;
  return { ms: performance.now() - t0, exitCode, out };
}

function stats(xs: number[]): { median: number; p90: number; max: number; min: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { min: s[0]!, median: at(0.5), p90: at(0.9), max: s[s.length - 1]! };
}

/** A one-line program compiled the same way: what any Bun executable costs to start. */
async function buildFloor(dir: string): Promise<string> {
  const src = join(dir, "floor.ts");
  const exe = join(dir, "floor");
  await Bun.write(src, `console.log(${JSON.stringify(VERSION)});\n`);
  const p = Bun.spawn([process.execPath, "build", "--compile", src, "--outfile", exe], { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`floor build failed: ${await new Response(p.stderr).text()}`);
  return exe;
}

const bin = await ensureBinary();
const dir = tempDir("clawdbot-startup-");
const emu = new SlackEmulator({ pingIntervalMs: 0 });
await emu.start();
const env = botEnv(emu, join(dir, "data"));
const bot = await spawnBot(["run"], env);
try {
  const port = await bot.healthPort();
  // A small store: a few answered DMs.
  for (let i = 0; i < 5; i++) emu.dm(`U0START0${i}`, `hello ${i}`);
  await waitFor(() => emu.botMessages().length >= 5, "five answers");
  const healthUrl = `http://127.0.0.1:${port}/health`;
  await waitFor(async () => (await once([bin, "health", "--url", healthUrl], false)).exitCode === 0, "health ok");

  const floor = await buildFloor(dir);
  const cases: Case[] = [
    { name: "floor: trivial compiled Bun program", argv: [floor], check: (c, o) => c === 0 && o.includes(VERSION) },
    { name: "--version", argv: [bin, "--version"], check: (c, o) => c === 0 && o.trim() === VERSION },
    {
      name: "health --url (closed port)",
      argv: [bin, "health", "--url", "http://127.0.0.1:1/health"],
      check: (c, o) => c === 2 && o.startsWith("CRIT: unreachable"),
    },
    { name: "health --url (running bot)", argv: [bin, "health", "--url", healthUrl], check: (c, o) => c === 0 && o.startsWith("OK status=ok") },
    {
      name: "state dump --json (5 answered DMs)",
      argv: [bin, "state", "dump", "--json", "--db", join(dir, "data", "clawdbot.db")],
      check: (c, o) => c === 0 && JSON.parse(o).events.answered >= 5,
    },
  ];

  const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let r = 0; r < WARMUP + RUNS; r++) {
    for (const c of cases) {
      const capture = r === 0;
      const { ms, exitCode, out } = await once(c.argv, capture);
      if (capture && !c.check(exitCode, out)) throw new Error(`${c.name}: unexpected exit ${exitCode}: ${out.slice(0, 300)}`);
      if (r >= WARMUP) times.get(c)!.push(ms);
    }
  }

  console.log(`${bin}, ${RUNS} runs each (after ${WARMUP} warm-up runs), wall ms from spawn to exit`);
  console.log(`| command | median | p90 | max | min |`);
  console.log(`|---|---:|---:|---:|---:|`);
  const f = (n: number) => n.toFixed(1);
  for (const c of cases) {
    const s = stats(times.get(c)!);
    console.log(`| ${c.name} | ${f(s.median)} | ${f(s.p90)} | ${f(s.max)} | ${f(s.min)} |`);
  }
} finally {
  bot.proc.kill("SIGTERM");
  await bot.exited;
  await emu.stop();
  cleanup(dir);
}
