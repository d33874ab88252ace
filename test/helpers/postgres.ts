// A private PostgreSQL server for the test run: initdb into a temp dir (trust auth, fsync
// off), on a free loopback port, as the `postgres` user when we are root (the server refuses
// root). One server per test process, started on first use and stopped when the process
// exits; a fresh database per test. CLAWDBOT_TEST_DATABASE_URL points at a server of your own
// instead. Where PostgreSQL is not installed the tests that need it are skipped with one line
// saying why, except under CI=true, where that fails the run.
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const VERSIONS_DIR = "/usr/lib/postgresql";

/** The directory holding initdb/pg_ctl, or null. */
function findBinDir(): string | null {
  if (process.env.CLAWDBOT_TEST_PG_BIN) return process.env.CLAWDBOT_TEST_PG_BIN;
  if (existsSync(VERSIONS_DIR)) {
    const versions = readdirSync(VERSIONS_DIR)
      .filter((v) => existsSync(join(VERSIONS_DIR, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(VERSIONS_DIR, versions[0], "bin");
  }
  const onPath = Bun.which("initdb");
  return onPath ? join(onPath, "..") : null;
}

/** Why the Postgres tests cannot run here, or null when they can. */
export function postgresUnavailable(): string | null {
  if (process.env.CLAWDBOT_TEST_DATABASE_URL) return null;
  if (!findBinDir()) return "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package, or set CLAWDBOT_TEST_DATABASE_URL";
  if (process.getuid?.() === 0 && !Bun.which("runuser")) return "running as root without runuser: the server refuses root";
  return null;
}

let skipNoticed = false;

/**
 * For `describe.skipIf(skipPostgres())`: true (and one line saying why) where
 * PostgreSQL is missing; under CI=true a missing PostgreSQL is an error, not a skip.
 */
export function skipPostgres(): boolean {
  const why = postgresUnavailable();
  if (!why) return false;
  if (process.env.CI === "true") throw new Error(`CI=true but the PostgreSQL tests cannot run: ${why}`);
  // One line for the whole run (bun runs every test file in one process), however many files skip.
  if (!skipNoticed) {
    skipNoticed = true;
    console.log(`skipping the PostgreSQL tests: ${why}`);
  }
  return true;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

interface Server {
  /** postgres://postgres@127.0.0.1:PORT */
  baseUrl: string;
  port: number;
  dataDir: string;
  stop(): void;
}

let server: Promise<Server> | null = null;

function asPostgres(argv: string[]): string[] {
  return process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...argv] : argv;
}

function run(argv: string[], what: string): void {
  const r = Bun.spawnSync(asPostgres(argv), { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}): ${r.stderr.toString()}${r.stdout.toString()}`);
}

const ROOT_PREFIX = "clawdbot-pg-";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Servers left by a test run that was killed (kill -9 skips every cleanup): stopped and removed. */
function reapStale(bin: string): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(ROOT_PREFIX)) continue;
    const root = join(tmpdir(), name);
    const owner = Number(readFileSafe(join(root, "owner")));
    if (!owner || alive(owner)) continue;
    Bun.spawnSync(asPostgres([join(bin, "pg_ctl"), "-D", join(root, "data"), "-m", "immediate", "-w", "stop"]), { stdout: "ignore", stderr: "ignore" });
    rmSync(root, { recursive: true, force: true });
  }
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return "";
  }
}

async function startServer(): Promise<Server> {
  const bin = findBinDir();
  if (!bin) throw new Error(postgresUnavailable() ?? "no PostgreSQL");
  reapStale(bin);
  const root = mkdtempSync(join(tmpdir(), ROOT_PREFIX));
  writeFileSync(join(root, "owner"), String(process.pid));
  if (process.getuid?.() === 0) {
    const ids = Bun.spawnSync(["id", "-u", "postgres"]).stdout.toString().trim();
    const gid = Bun.spawnSync(["id", "-g", "postgres"]).stdout.toString().trim();
    chownSync(root, Number(ids), Number(gid));
  }
  const dataDir = join(root, "data");
  run([join(bin, "initdb"), "-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"], "initdb");
  const port = await freePort();
  const opts = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${root}`,
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=200",
  ].join(" ");
  run([join(bin, "pg_ctl"), "-D", dataDir, "-o", opts, "-l", join(root, "server.log"), "-w", "-t", "60", "start"], "pg_ctl start");
  const stop = () => {
    Bun.spawnSync(asPostgres([join(bin, "pg_ctl"), "-D", dataDir, "-m", "immediate", "-w", "stop"]), { stdout: "ignore", stderr: "ignore" });
    rmSync(root, { recursive: true, force: true });
  };
  return { baseUrl: `postgres://postgres@127.0.0.1:${port}`, port, dataDir, stop };
}

/** Stops the private server if this process started one (test/setup.ts calls it after all tests). */
export async function stopPostgres(): Promise<void> {
  if (!server) return;
  const s = await server.catch(() => null);
  server = null;
  s?.stop();
}

/** The URL of the server's maintenance database (starts the private server on first use). */
async function adminUrl(): Promise<string> {
  const own = process.env.CLAWDBOT_TEST_DATABASE_URL;
  if (own) return own;
  server ??= startServer();
  return `${(await server).baseUrl}/postgres`;
}

/** The private server's loopback port (for a TCP proxy in front of it). */
export async function serverPort(): Promise<number> {
  const url = new URL(await adminUrl());
  return Number(url.port || 5432);
}

/** A new, empty database; returns its URL. */
export async function freshDatabase(prefix = "t"): Promise<string> {
  const admin = await adminUrl();
  const name = `${prefix}_${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const sql = new Bun.SQL(admin, { max: 1 });
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.close();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}
