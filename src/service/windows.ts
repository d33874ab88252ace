// The two Task Scheduler tasks (schema: https://learn.microsoft.com/windows/win32/taskschd/task-scheduler-schema,
// [MS-TSCH] 2.5), registered with `schtasks /Create /XML`:
//   clawdbot           `clawdbot.exe run` at boot, no time limit, restarted on failure, one instance
//   clawdbot-watchdog  every 5 minutes `clawdbot.exe health`; exit 2 (a restart is needed,
//                      seed plan 3.3) ends and restarts the bot's task
//
// Logon type S4U: the task runs as the installing user whether or not anyone is logged on,
// with no password stored, in a non-interactive session, so no console window ever opens.
// What S4U gives up (access to network shares and EFS files with the user's credentials)
// the bot does not use: it only makes outbound HTTPS calls. Password would need the user's
// password at install and again after every password change; InteractiveToken would run
// only while the user is logged on, with a console window on their desktop.
import { win32 } from "node:path";

export const BOT_TASK = "clawdbot";
export const WATCHDOG_TASK = "clawdbot-watchdog";
/** How often the watchdog runs (seed plan 3.3: every 5 minutes). */
export const WATCHDOG_EVERY = "PT5M";
/** RestartOnFailure: every minute (the schema's minimum), as often as the schema allows (Count is an unsignedByte). */
export const RESTART_INTERVAL = "PT1M";
export const RESTART_COUNT = 255;

export interface WindowsTaskOptions {
  /** Absolute path of clawdbot.exe. */
  exe: string;
  /** DOMAIN\user the tasks run as. */
  user: string;
  /** Registration time: the watchdog's repetition starts here. */
  now: Date;
}

export class TaskDefinitionError extends Error {}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Local time without zone, as Task Scheduler writes StartBoundary. */
function localIso(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function checkExe(exe: string): string {
  if (!win32.isAbsolute(exe) || !/^([A-Za-z]:\\|\\\\)/.test(exe)) {
    throw new TaskDefinitionError(`${exe} is not an absolute Windows path (C:\\...\\clawdbot.exe)`);
  }
  // Task Scheduler expands %VARS% in Command and Arguments, and cmd.exe again in the
  // watchdog's line: a % in the path would be read as a variable. " cannot be in a path.
  if (/[%"]/.test(exe)) throw new TaskDefinitionError(`${exe}: move clawdbot.exe to a folder whose path has no % in it`);
  return exe;
}

/**
 * The watchdog's cmd.exe arguments. With /s, cmd strips the first and the last quote of
 * what follows /c and runs the rest verbatim:
 *   "C:\...\clawdbot.exe" health || if errorlevel 2 (%SystemRoot%\System32\schtasks.exe /End /TN clawdbot & ...)
 * `||` runs the right side only when health fails; `if errorlevel 2` is "exit code 2 or
 * more" (health's 1, healing itself, is left alone); `&` runs /Run whether /End found a
 * running instance or not. /d skips AutoRun commands from the registry. schtasks by its
 * full path: cmd looks in the working directory (the exe's folder) before PATH.
 */
export function watchdogArguments(exe: string): string {
  const schtasks = "%SystemRoot%\\System32\\schtasks.exe";
  return `/d /s /c ""${exe}" health || if errorlevel 2 (${schtasks} /End /TN ${BOT_TASK} & ${schtasks} /Run /TN ${BOT_TASK})"`;
}

interface TaskParts {
  description: string;
  triggers: string;
  runLevel: "LeastPrivilege" | "HighestAvailable";
  settings: string;
  command: string;
  args: string;
  workingDir: string;
}

function taskXml(o: WindowsTaskOptions, name: string, t: TaskParts): string {
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Date>${localIso(o.now)}</Date>
    <Author>${esc(o.user)}</Author>
    <Description>${esc(t.description)}</Description>
    <URI>\\${name}</URI>
  </RegistrationInfo>
  <Triggers>
${t.triggers}
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>${esc(o.user)}</UserId>
      <LogonType>S4U</LogonType>
      <RunLevel>${t.runLevel}</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
${t.settings}
    <Priority>7</Priority>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${esc(t.command)}</Command>
      <Arguments>${esc(t.args)}</Arguments>
      <WorkingDirectory>${esc(t.workingDir)}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
`;
}

export interface WindowsTask {
  name: string;
  xml: string;
  /** What `install` reports: when it runs and the command line. */
  summary: string;
}

export function windowsTasks(o: WindowsTaskOptions): WindowsTask[] {
  const exe = checkExe(o.exe);
  const dir = win32.dirname(exe);
  const watchdogArgs = watchdogArguments(exe);
  const cmd = "%SystemRoot%\\System32\\cmd.exe";
  return [
    {
      name: BOT_TASK,
      summary: `at boot, as ${o.user} (S4U: whether logged on or not, no window), no time limit, restarted every minute on failure: "${exe}" run (in ${dir})`,
      xml: taskXml(o, BOT_TASK, {
        description: "clawdbot: the Slack bot (clawdbot.exe run). Registered by clawdbot task install.",
        triggers: "    <BootTrigger>\n      <Enabled>true</Enabled>\n    </BootTrigger>",
        runLevel: "LeastPrivilege",
        // PT0S: no limit. The default, 72 hours, stops the bot after three days.
        settings: `    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <RestartOnFailure>
      <Interval>${RESTART_INTERVAL}</Interval>
      <Count>${RESTART_COUNT}</Count>
    </RestartOnFailure>`,
        command: exe,
        args: "run",
        workingDir: dir,
      }),
    },
    {
      name: WATCHDOG_TASK,
      summary: `every 5 minutes, as ${o.user} (highest privileges, to end and run the bot's task): ${cmd} ${watchdogArgs}`,
      xml: taskXml(o, WATCHDOG_TASK, {
        description: `clawdbot watchdog: runs clawdbot.exe health every 5 minutes and restarts the ${BOT_TASK} task when it exits 2. Registered by clawdbot task install.`,
        triggers: `    <TimeTrigger>
      <StartBoundary>${localIso(o.now)}</StartBoundary>
      <Enabled>true</Enabled>
      <Repetition>
        <Interval>${WATCHDOG_EVERY}</Interval>
        <StopAtDurationEnd>false</StopAtDurationEnd>
      </Repetition>
    </TimeTrigger>`,
        // Ending and starting a task registered by an administrator needs an elevated token.
        runLevel: "HighestAvailable",
        // The health probe gives up after 5 s; a watchdog still running after 4 minutes is stuck.
        settings: "    <ExecutionTimeLimit>PT4M</ExecutionTimeLimit>",
        command: cmd,
        args: watchdogArgs,
        workingDir: dir,
      }),
    },
  ];
}

/** UTF-16 LE with a byte order mark: what Task Scheduler's own exports are, and what schtasks /XML reads reliably. */
export function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = 0xff;
  out[1] = 0xfe;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[2 + i * 2] = c & 0xff;
    out[3 + i * 2] = c >> 8;
  }
  return out;
}
