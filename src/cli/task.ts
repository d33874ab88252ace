// `clawdbot task install|uninstall|print`: the service definition, written by the binary
// itself. Windows: two Task Scheduler tasks; Linux: a systemd service and a watchdog timer.
import { defineCommand } from "citty";
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import {
  installSystemd,
  installWindows,
  realHost,
  ServiceError,
  type ServiceHost,
  schtasksPath,
  uninstallSystemd,
  uninstallWindows,
} from "../service/install.ts";
import { systemdUnits, UnitDefinitionError, unitDir } from "../service/systemd.ts";
import { TaskDefinitionError, windowsTasks } from "../service/windows.ts";
import { compiled } from "../compiled.ts";
import { CliExit } from "./exit.ts";

type Platform = "windows" | "linux";

const taskArgs = {
  platform: { type: "string", description: "windows or linux (default: this machine's)" },
  user: { type: "boolean", description: "linux: the user's own systemd (~/.config/systemd/user) instead of /etc/systemd/system" },
  exe: { type: "string", description: "the executable the service runs (default: this one)" },
} as const;

interface TaskArgs {
  platform?: string;
  user?: boolean;
  exe?: string;
}

/** The seams `task` needs: tests pass a recording host, a fixed clock and their own executable. */
export interface TaskEnv {
  host: () => Promise<ServiceHost>;
  now: () => Date;
  /** This executable, or null when running from source (bun src/main.ts). */
  self: () => string | null;
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  print: (line: string) => void;
}


export const defaultTaskEnv: TaskEnv = {
  host: realHost,
  now: () => new Date(),
  self: () => (compiled() ? process.execPath : null),
  platform: process.platform,
  env: process.env,
  print: (l) => console.log(l),
};

const here = (e: TaskEnv): Platform => (e.platform === "win32" ? "windows" : "linux");

function platformOf(a: TaskArgs, e: TaskEnv): Platform {
  const p = a.platform?.toLowerCase() ?? here(e);
  if (p !== "windows" && p !== "linux") throw new CliExit(2, `clawdbot task: --platform "${a.platform}": windows or linux`);
  return p;
}

function exeOf(a: TaskArgs, e: TaskEnv): string {
  const exe = a.exe ?? e.self();
  if (!exe) throw new CliExit(2, "clawdbot task: running from source: pass --exe <path of the built clawdbot executable> (npm run build writes dist/)");
  return exe;
}

/** DOMAIN\user, the account the Windows tasks run as (the one installing them). */
function windowsUser(e: TaskEnv): string {
  const user = e.env.USERNAME;
  if (!user) return "COMPUTER\\user";
  return e.env.USERDOMAIN ? `${e.env.USERDOMAIN}\\${user}` : user;
}

/** The account a system unit runs as: whoever ran sudo, else the current user. */
function linuxUser(e: TaskEnv): string {
  if (e.env.SUDO_USER) return e.env.SUDO_USER;
  const name = userInfo().username;
  if (name && name !== "unknown") return name;
  // Bun answers "unknown" where it cannot name the uid itself; /etc/passwd can, and systemd
  // takes a numeric uid as well.
  const uid = String(process.getuid?.() ?? "");
  const entry = readPasswd().find((l) => l.split(":")[2] === uid);
  return entry?.split(":")[0] || uid;
}

function readPasswd(): string[] {
  try {
    return readFileSync("/etc/passwd", "utf8").split("\n");
  } catch {
    return [];
  }
}

function definitionError(err: unknown): never {
  if (err instanceof TaskDefinitionError || err instanceof UnitDefinitionError || err instanceof ServiceError) {
    throw new CliExit(2, `clawdbot task: ${err.message}`);
  }
  throw err;
}

export function taskCommand(e: TaskEnv = defaultTaskEnv) {
  const onlyHere = (a: TaskArgs, verb: string): Platform => {
    const p = platformOf(a, e);
    if (p !== here(e)) throw new CliExit(2, `clawdbot task ${verb}: this is not ${p}; use clawdbot task print --platform ${p} to see the definition`);
    return p;
  };

  const print = defineCommand({
    meta: { name: "print", description: "Print the service definition (nothing is registered)" },
    args: taskArgs,
    run({ args }) {
      const p = platformOf(args, e);
      const exe = exeOf(args, e);
      try {
        if (p === "windows") {
          for (const t of windowsTasks({ exe, user: windowsUser(e), now: e.now() })) {
            e.print(`==> ${t.name}.xml (schtasks /Create /XML ${t.name}.xml /TN ${t.name} /F; the file UTF-16 LE with BOM) <==`);
            e.print(t.xml);
          }
        } else {
          const dir = unitDir(!!args.user, e.env);
          for (const u of systemdUnits({ exe, user: !!args.user, runAs: linuxUser(e) })) {
            e.print(`==> ${dir}/${u.name} <==`);
            e.print(u.text);
          }
        }
      } catch (err) {
        definitionError(err);
      }
    },
  });

  const install = defineCommand({
    meta: { name: "install", description: "Register the service (Windows: an elevated prompt; Linux: root, or --user) and start it" },
    args: taskArgs,
    async run({ args }) {
      const p = onlyHere(args, "install");
      const exe = exeOf(args, e);
      try {
        const host = await e.host();
        if (p === "windows") await installWindows(host, { exe, user: windowsUser(e), now: e.now() }, e.print, schtasksPath(e.env));
        else await installSystemd(host, { exe, user: !!args.user, runAs: linuxUser(e) }, e.print, e.env);
      } catch (err) {
        definitionError(err);
      }
    },
  });

  const uninstall = defineCommand({
    meta: { name: "uninstall", description: "Stop and remove the service" },
    args: taskArgs,
    async run({ args }) {
      const p = onlyHere(args, "uninstall");
      try {
        const host = await e.host();
        if (p === "windows") await uninstallWindows(host, e.print, schtasksPath(e.env));
        else await uninstallSystemd(host, !!args.user, e.print, e.env);
      } catch (err) {
        definitionError(err);
      }
    },
  });

  return defineCommand({
    meta: { name: "task", description: "The service definition: Task Scheduler tasks on Windows, systemd units on Linux" },
    subCommands: { install, uninstall, print },
  });
}

export default taskCommand();
