// A real browser for the status page's tests: Debian's headless Chromium, one fresh profile
// per run, no network of its own (no updates, sync or first-run). Where Chromium is not
// installed the tests that need it are skipped with one line saying why, except under
// CI=true, where that fails the run (.ci/run installs it).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/** The Chromium executable, or null. CLAWDBOT_TEST_CHROMIUM names another. */
export function chromiumPath(): string | null {
  const named = process.env.CLAWDBOT_TEST_CHROMIUM;
  if (named) return existsSync(named) ? named : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? Bun.which("chromium") ?? null;
}

let skipNoticed = false;

/** For `describe.skipIf(skipChromium())`: true (and one line saying why) where Chromium is missing. */
export function skipChromium(): boolean {
  if (chromiumPath()) return false;
  const why = "Chromium not found: install Debian's chromium package, or set CLAWDBOT_TEST_CHROMIUM";
  if (process.env.CI === "true") throw new Error(`CI=true but the browser tests cannot run: ${why}`);
  // One line for the whole run (bun runs every test file in one process), however many files skip.
  if (!skipNoticed) {
    skipNoticed = true;
    console.log(`skipping the browser tests: ${why}`);
  }
  return true;
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--hide-scrollbars",
  "--force-device-scale-factor=1",
];

/** A start on a busy 2-core machine can take many seconds; a hang still ends. */
const RUN_TIMEOUT_MS = 60_000;

/** Runs Chromium once on `url` with `args`; resolves to its stdout once it exits. */
async function run(url: string, args: string[]): Promise<string> {
  const bin = chromiumPath();
  if (!bin) throw new Error("Chromium not found");
  const profile = mkdtempSync(join(tmpdir(), "clawdbot-chromium-"));
  const proc = Bun.spawn([bin, ...FLAGS, `--user-data-dir=${profile}`, ...args, url], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), RUN_TIMEOUT_MS);
  try {
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`chromium exited ${code}${proc.signalCode ? ` (${proc.signalCode})` : ""}: ${err.slice(-2000)}`);
    return out;
  } finally {
    clearTimeout(timer);
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * The DOM after the page loaded and its scripts ran. With `virtualTimeMs`, Chromium runs the
 * page's timers through that much virtual time first (fast, waiting for its fetches), so a
 * page that refreshes itself can be seen after a few refreshes without waiting for them.
 */
export function dumpDom(url: string, opts: { virtualTimeMs?: number } = {}): Promise<string> {
  const budget = opts.virtualTimeMs ? [`--virtual-time-budget=${opts.virtualTimeMs}`] : [];
  return run(url, [...budget, "--dump-dom"]);
}

/** A PNG of the page at `file`. */
export async function screenshot(url: string, file: string, size = "1200,900"): Promise<void> {
  await run(url, [`--screenshot=${file}`, `--window-size=${size}`]);
  if (!existsSync(file)) throw new Error(`chromium wrote no screenshot to ${file}`);
}
