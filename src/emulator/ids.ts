// Identifier and timestamp generators shaped like Slack's.

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

export function randomAlnum(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += ALNUM[Math.floor(Math.random() * ALNUM.length)];
  return s;
}

export function eventId(): string {
  return `Ev${randomAlnum(10)}`;
}

/** Message timestamps: real wall-clock time (the bot filters catch-up by age), strictly increasing. */
export class TsClock {
  private last = 0;
  next(): string {
    let us = Date.now() * 1000;
    if (us <= this.last) us = this.last + 1;
    this.last = us;
    return microsToTs(us);
  }
}

export function microsToTs(us: number): string {
  return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, "0")}`;
}

/** Exact comparison key: seconds*1e6 + micros stays below 2^53. */
export function tsToMicros(ts: string): number {
  const [sec = "0", frac = ""] = ts.split(".");
  return Number(sec) * 1e6 + Number(frac.padEnd(6, "0").slice(0, 6));
}

export function compareTs(a: string, b: string): number {
  return tsToMicros(a) - tsToMicros(b);
}
