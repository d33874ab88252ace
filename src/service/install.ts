// Registers and removes the service definitions. Every platform command (schtasks,
// systemctl) and file write goes through a ServiceHost, so tests check the exact argv and
// files in-process without running them; realHost() is the machine itself.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, win32 } from "node:path";
import { BOT_UNIT, systemdUnits, type SystemdOptions, UNIT_NAMES, unitDir, WATCHDOG_TIMER } from "./systemd.ts";
import { BOT_TASK, utf16le, WATCHDOG_TASK, type WindowsTaskOptions, windowsTasks } from "./windows.ts";

export interface ExecResult {
  code: number;
  /** stdout and stderr together. */
  output: string;
}

export interface ServiceHost {
  exec(argv: string[]): Promise<ExecResult>;
  /** Administrator (an elevated token) on Windows, root elsewhere. */
  privileged(): boolean;
  writeFile(path: string, data: Uint8Array | string): void;
  /** Removes a file; false if there was none. */
  removeFile(path: string): boolean;
  /** A fresh, empty directory for files the platform command reads. */
  tempDir(): string;
  removeDir(path: string): void;
}

/** A reason the service could not be registered or removed: one line, exit 2. */
export class ServiceError extends Error {}

type Report = (line: string) => void;

function firstLine(s: string): string {
  return s.trim().split(/\r?\n/).find((l) => l.trim())?.trim() ?? "no output";
}

async function must(host: ServiceHost, argv: string[], hint = ""): Promise<void> {
  const r = await host.exec(argv);
  if (r.code === 0) return;
  const denied = /denied|not permitted|authentication is required|interactive authentication/i.test(r.output);
  throw new ServiceError(`${argv.join(" ")} failed (exit ${r.code}): ${firstLine(r.output)}${denied && hint ? `; ${hint}` : ""}`);
}

const ELEVATE =
  "registering tasks that run at boot, whether or not you are logged on, needs administrator rights: open the prompt with Run as administrator and run it again";

/** schtasks by its full path: a process looks in its working directory before PATH on Windows. */
export const schtasksPath = (env: Record<string, string | undefined>) => win32.join(env.SystemRoot || "C:\\Windows", "System32", "schtasks.exe");

export async function installWindows(host: ServiceHost, o: WindowsTaskOptions, report: Report, schtasks = "schtasks"): Promise<void> {
  const tasks = windowsTasks(o);
  if (!host.privileged()) throw new ServiceError(`not an elevated prompt: ${ELEVATE}`);
  const dir = host.tempDir();
  try {
    for (const t of tasks) {
      const file = win32.join(dir, `${t.name}.xml`);
      host.writeFile(file, utf16le(t.xml));
      // /F replaces a task of that name: installing again updates it.
      await must(host, [schtasks, "/Create", "/XML", file, "/TN", t.name, "/F"], ELEVATE);
      report(`registered task ${t.name}: ${t.summary}`);
    }
    // Now, not at the next boot.
    await must(host, [schtasks, "/Run", "/TN", BOT_TASK]);
    report(`started task ${BOT_TASK}; check it with: clawdbot health (or clawdbot logs -f)`);
  } finally {
    host.removeDir(dir);
  }
}

export async function uninstallWindows(host: ServiceHost, report: Report, schtasks = "schtasks"): Promise<void> {
  if (!host.privileged()) throw new ServiceError(`not an elevated prompt: removing the tasks needs administrator rights: open the prompt with Run as administrator and run it again`);
  // The watchdog first, so it cannot start the bot again in between.
  for (const name of [WATCHDOG_TASK, BOT_TASK]) {
    if ((await host.exec([schtasks, "/Query", "/TN", name])).code !== 0) {
      report(`task ${name} is not registered`);
      continue;
    }
    // A running bot is stopped (Task Scheduler's End is a hard kill: nothing is lost by it).
    if (name === BOT_TASK) await host.exec([schtasks, "/End", "/TN", name]);
    await must(host, [schtasks, "/Delete", "/TN", name, "/F"]);
    report(`removed task ${name}`);
  }
}

const systemctl = (user: boolean) => (user ? ["systemctl", "--user"] : ["systemctl"]);
const NEEDS_ROOT = "writing /etc/systemd/system needs root: run it with sudo, or pass --user for your own systemd instance";

export async function installSystemd(host: ServiceHost, o: SystemdOptions, report: Report, env = process.env): Promise<void> {
  const units = systemdUnits(o);
  if (!o.user && !host.privileged()) throw new ServiceError(NEEDS_ROOT);
  const dir = unitDir(o.user, env);
  for (const u of units) {
    host.writeFile(join(dir, u.name), u.text);
    report(`wrote ${join(dir, u.name)}`);
  }
  await must(host, [...systemctl(o.user), "daemon-reload"]);
  await must(host, [...systemctl(o.user), "enable", "--now", BOT_UNIT, WATCHDOG_TIMER]);
  const who = o.user ? "you" : o.runAs && o.runAs !== "root" ? o.runAs : "root";
  report(`enabled and started ${BOT_UNIT}: "${o.exe}" run, as ${who}, Restart=always`);
  report(`enabled and started ${WATCHDOG_TIMER}: every 5 minutes "${o.exe}" health; exit 2 restarts ${BOT_UNIT}`);
  if (o.user) report("to start at boot without logging in: sudo loginctl enable-linger $USER");
  report("check it with: clawdbot health (or clawdbot logs -f)");
}

export async function uninstallSystemd(host: ServiceHost, user: boolean, report: Report, env = process.env): Promise<void> {
  if (!user && !host.privileged()) throw new ServiceError(NEEDS_ROOT.replace("writing", "removing units from"));
  const dir = unitDir(user, env);
  // Fails when the units are not loaded: nothing to stop then.
  await host.exec([...systemctl(user), "disable", "--now", WATCHDOG_TIMER, BOT_UNIT]);
  let removed = 0;
  for (const name of UNIT_NAMES) {
    if (host.removeFile(join(dir, name))) {
      removed++;
      report(`removed ${join(dir, name)}`);
    }
  }
  if (removed === 0) report(`no clawdbot units in ${dir}`);
  await must(host, [...systemctl(user), "daemon-reload"]);
}

/** How long output may trail a command's exit. */
const PIPE_GRACE_MS = 500;

async function drain(reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> }, into: { text: string }): Promise<void> {
  const dec = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) return;
    into.text += dec.decode(value, { stream: true });
  }
}

/** Windows: IsUserAnAdmin (an elevated administrator token), through bun:ffi. */
async function windowsAdmin(): Promise<boolean> {
  try {
    const { dlopen, FFIType } = await import("bun:ffi");
    const lib = dlopen("shell32.dll", { IsUserAnAdmin: { args: [], returns: FFIType.i32 } });
    try {
      return lib.symbols.IsUserAnAdmin() !== 0;
    } finally {
      lib.close();
    }
  } catch {
    // Cannot tell: let schtasks decide (its "Access is denied" gets the same advice).
    return true;
  }
}

export async function realHost(): Promise<ServiceHost> {
  const admin = process.platform === "win32" ? await windowsAdmin() : process.getuid?.() === 0;
  return {
    async exec(argv) {
      let p: Bun.Subprocess<"ignore", "pipe", "pipe">;
      try {
        p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      } catch (err) {
        return { code: 127, output: `${argv[0]}: ${(err as Error).message}` };
      }
      const out = { text: "" };
      const readers = [p.stdout, p.stderr].map((s) => s.getReader());
      const drained = Promise.all(readers.map((r) => drain(r, out)));
      const code = await p.exited;
      // The output once the command has exited, not the end of its pipes: under Wine,
      // schtasks hands them to the scheduler service it starts, and they never close.
      await Promise.race([drained, Bun.sleep(PIPE_GRACE_MS)]);
      for (const r of readers) r.cancel().catch(() => {});
      return { code, output: out.text };
    },
    privileged: () => admin,
    writeFile(path, data) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, data);
    },
    removeFile(path) {
      if (!existsSync(path)) return false;
      rmSync(path);
      return true;
    },
    tempDir: () => mkdtempSync(join(tmpdir(), "clawdbot-task-")),
    removeDir(path) {
      try {
        rmSync(path, { recursive: true, force: true });
      } catch {
        // Wine's EFAULT on a recursive remove: one file at a time. Two XML files left in a
        // temp folder (no secret in them) are not worth failing an install that worked.
        try {
          for (const f of readdirSync(path)) rmSync(join(path, f));
          rmdirSync(path);
        } catch {}
      }
    },
  };
}
