// Run by hand: `bun bench/reconnect.ts [--quick]`. Measures, against the emulator on loopback,
// (1) the time from an abrupt close to the next message answered, and (2) the time to
// detect a silent (black-holed) socket, at the default intervals and at test intervals.
// --quick skips the default-interval silent socket (it takes the full 30 s liveness timeout).
import { loadConfig } from "../src/config.ts";
import { SlackEmulator } from "../src/emulator/index.ts";
import { startRuntime } from "../src/runtime.ts";
import { cleanup, tempDir, waitFor } from "../test/helpers/bot.ts";

const quick = process.argv.includes("--quick");

interface Profile {
  name: string;
  env: Record<string, string>;
  silentSamples: number;
}

const PROFILES: Profile[] = [
  { name: "defaults (initial 5 s, liveness 30 s)", env: {}, silentSamples: quick ? 0 : 1 },
  { name: "test (initial 0.05 s, liveness 0.5 s)", env: { CLAWDBOT_RECONNECT_INITIAL: "0.05", CLAWDBOT_RECONNECT_MAX: "0.5", CLAWDBOT_LIVENESS_TIMEOUT: "0.5" }, silentSamples: 5 },
];

function stats(xs: number[]): string {
  if (xs.length === 0) return "n/a";
  const s = [...xs].sort((a, b) => a - b);
  const pct = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `n=${s.length} min ${s[0]} median ${pct(0.5)} p90 ${pct(0.9)} max ${s[s.length - 1]} ms`;
}

async function bench(p: Profile): Promise<void> {
  const emu = new SlackEmulator({ pingIntervalMs: 5000, ackTimeoutMs: 3000 });
  await emu.start();
  const dir = tempDir("clawdbot-bench-");
  const env = {
    SLACK_BOT_TOKEN: emu.options.botToken,
    SLACK_APP_TOKEN: emu.options.appToken,
    SLACK_API_URL: emu.apiUrl,
    CLAWDBOT_DATA_DIR: dir,
    CLAWDBOT_HEALTH_PORT: "0",
    ...p.env,
  };
  const rt = await startRuntime({ config: loadConfig(env), consoleLevel: 0 });
  try {
    await waitFor(async () => (await rt.snapshot()).status === "ok", "connected", 30_000);
    const answered = (t: string) => emu.botMessages().some((m) => m.text === `echo: ${t}`);

    const drops: number[] = [];
    for (let i = 0; i < 20; i++) {
      await waitFor(async () => emu.openConnections() === 1 && (await rt.snapshot()).connected, "connected", 30_000);
      const t0 = performance.now();
      emu.dropSockets();
      emu.dm("U0BENCH01", `after drop ${i}`);
      await waitFor(() => answered(`after drop ${i}`), "answer", 60_000);
      drops.push(Math.round(performance.now() - t0));
    }

    const silent: number[] = [];
    for (let i = 0; i < p.silentSamples; i++) {
      await waitFor(async () => emu.openConnections() === 1 && (await rt.snapshot()).connected, "connected", 60_000);
      const n = emu.connectionLog.length;
      const t0 = Date.now();
      emu.blackhole(true);
      const closed = await waitFor(() => emu.connectionLog.slice(0, n).find((c) => c.closedAt && c.closedAt >= t0), "detect", 120_000);
      silent.push(closed.closedAt! - t0);
      emu.blackhole(false);
    }
    console.log(`${p.name}\n  abrupt close → next message answered: ${stats(drops)}\n  silent socket detected after:        ${stats(silent)}`);
  } finally {
    await rt.stop();
    await emu.stop();
    cleanup(dir);
  }
}

for (const p of PROFILES) await bench(p);
