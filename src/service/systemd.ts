// The Linux service: clawdbot.service (Restart=always) and the same watchdog as on Windows,
// a timer that runs a oneshot service every 5 minutes: `clawdbot health`, and a restart
// when it exits 2 or more (seed plan 3.3). System units under /etc/systemd/system, or with
// --user the user's own (~/.config/systemd/user; `loginctl enable-linger` starts them at boot).
import { homedir } from "node:os";
import { dirname, join, posix } from "node:path";

export const BOT_UNIT = "clawdbot.service";
export const WATCHDOG_UNIT = "clawdbot-watchdog.service";
export const WATCHDOG_TIMER = "clawdbot-watchdog.timer";
export const UNIT_NAMES = [BOT_UNIT, WATCHDOG_UNIT, WATCHDOG_TIMER] as const;

export interface SystemdOptions {
  /** Absolute path of the clawdbot executable. */
  exe: string;
  /** --user: the user's own systemd instance. */
  user: boolean;
  /** System units: the account clawdbot runs as (not root if it can help it). */
  runAs?: string;
}

export class UnitDefinitionError extends Error {}

export interface UnitFile {
  name: string;
  text: string;
}

export function unitDir(user: boolean, env: Record<string, string | undefined> = process.env): string {
  if (!user) return "/etc/systemd/system";
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config"), "systemd", "user");
}

function checkExe(exe: string): string {
  if (!posix.isAbsolute(exe)) throw new UnitDefinitionError(`${exe} is not an absolute path`);
  // systemd unquotes ExecStart itself and sh -c again for the watchdog: keep the path plain.
  if (/["'\\$`\n]/.test(exe)) throw new UnitDefinitionError(`${exe}: move clawdbot to a path without quotes, backslashes, $ or backticks`);
  return exe;
}

/** % starts a systemd specifier (%h, %u): a literal one is %%. */
const spec = (s: string) => s.replace(/%/g, "%%");

export function systemdUnits(o: SystemdOptions): UnitFile[] {
  const exe = spec(checkExe(o.exe));
  const dir = spec(dirname(o.exe));
  const systemctl = o.user ? "systemctl --user" : "systemctl";
  const runAs = !o.user && o.runAs && o.runAs !== "root" ? `User=${o.runAs}\n` : "";
  return [
    {
      name: BOT_UNIT,
      text: `[Unit]
Description=clawdbot: the Slack bot (clawdbot run)
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
${runAs}WorkingDirectory=${dir}
ExecStart="${exe}" run
# It never exits because Slack or the network is down; when it does exit, start it again.
Restart=always
RestartSec=5
# SIGTERM is a graceful stop; the bot finishes within its own shutdown budget.
KillSignal=SIGTERM
TimeoutStopSec=30

[Install]
WantedBy=${o.user ? "default.target" : "multi-user.target"}
`,
    },
    {
      name: WATCHDOG_UNIT,
      text: `[Unit]
Description=clawdbot watchdog: restarts ${BOT_UNIT} when clawdbot health says a restart is needed

[Service]
Type=oneshot
WorkingDirectory=${dir}
# health exits 0 ok, 1 healing itself, 2 a restart (or a person) is needed. $$ is a literal $.
ExecStart=/bin/sh -c '"${exe}" health || [ $$? -lt 2 ] || ${systemctl} restart ${BOT_UNIT}'
`,
    },
    {
      name: WATCHDOG_TIMER,
      text: `[Unit]
Description=Run the clawdbot watchdog every 5 minutes

[Timer]
OnBootSec=5min
OnUnitActiveSec=5min
Unit=${WATCHDOG_UNIT}

[Install]
WantedBy=timers.target
`,
    },
  ];
}
