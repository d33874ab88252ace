// A burst of DMs through the emulator, timed until every reply is in Slack: shared by the
// benchmarks that compare ways of running the bot.
import type { SlackEmulator } from "../src/emulator/index.ts";

export interface BurstResult {
  name: string;
  eventsPerS: number;
  ackP50: number;
  ackP99: number;
  totalMs: number;
}

export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** Sends `n` DMs from `users` users at once and waits (at most `timeoutMs`) until `n` replies are in Slack. */
export async function burst(emu: SlackEmulator, name: string, n: number, users: number, timeoutMs = 120_000): Promise<BurstResult> {
  let replies = 0;
  const off = emu.onMessage((m) => {
    if (m.bot_id && m.text.includes("bench-")) replies++;
  });
  const before = emu.envelopes.length;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) emu.dm(`UB${i % users}`, `bench-${i}`);
  const deadline = Date.now() + timeoutMs;
  while (replies < n && Date.now() < deadline) await Bun.sleep(2);
  const totalMs = performance.now() - t0;
  off();
  const acks = emu.envelopes
    .slice(before)
    .filter((e) => e.acked && e.attempts.length)
    .map((e) => (e.acked?.at ?? 0) - (e.attempts[0]?.at ?? 0));
  if (replies < n) console.error(`${name}: only ${replies}/${n} replies in ${timeoutMs / 1000} s`);
  return { name, eventsPerS: (replies / totalMs) * 1000, ackP50: pct(acks, 50), ackP99: pct(acks, 99), totalMs };
}
