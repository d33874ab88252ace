// `clawdbot task`: the Task Scheduler XML (parsed and checked against the schema's rules),
// the systemd units, and install/uninstall through a recording host: the exact argv of
// every schtasks and systemctl call, and the files written, without running any of them.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { taskCommand, type TaskEnv } from "../../src/cli/task.ts";
import type { ExecResult, ServiceHost } from "../../src/service/install.ts";
import { systemdUnits } from "../../src/service/systemd.ts";
import { watchdogArguments, windowsTasks } from "../../src/service/windows.ts";
import { cleanup, ensureBinary, tempDir } from "../helpers/bot.ts";
import { runCli } from "../helpers/cli.ts";
import { child, parseXml, text, type XmlElement } from "../helpers/xml.ts";

const EXE = "C:\\Program Files\\R&D bots\\clawdbot.exe";
const DIR = "C:\\Program Files\\R&D bots";
const NOW = new Date(2025, 2, 1, 10, 0, 0);
const USER = "ACME\\ops";
const SCHTASKS = "C:\\Windows\\System32\\schtasks.exe";

/** Records every call; answers from `answers` (by the joined argv), else exit 0. */
function recordingHost(o: { privileged?: boolean; answers?: Record<string, ExecResult> } = {}) {
  const calls: string[][] = [];
  const files = new Map<string, Uint8Array | string>();
  const removed: string[] = [];
  const dirs: string[] = [];
  const host: ServiceHost = {
    exec: async (argv) => {
      calls.push(argv);
      return o.answers?.[argv.join(" ")] ?? { code: 0, output: "SUCCESS" };
    },
    privileged: () => o.privileged ?? true,
    writeFile: (p, d) => void files.set(p, d),
    removeFile: (p) => {
      removed.push(p);
      files.delete(p);
      return true;
    },
    tempDir: () => "C:\\Temp\\clawdbot-task-1",
    removeDir: (p) => void dirs.push(p),
  };
  return { host, calls, files, removed, dirs };
}

function env(host: ServiceHost, over: Partial<TaskEnv> = {}): { e: TaskEnv; out: string[] } {
  const out: string[] = [];
  const e: TaskEnv = {
    host: async () => host,
    now: () => NOW,
    self: () => EXE,
    platform: "win32",
    env: { USERNAME: "ops", USERDOMAIN: "ACME" },
    print: (l) => out.push(l),
    ...over,
  };
  return { e, out };
}

const utf16 = (b: Uint8Array) => new TextDecoder("utf-16le").decode(b.subarray(2));

// --- the schema's rules for the elements we write ([MS-TSCH] 2.5; learn.microsoft.com taskschd schema) ---
const ALLOWED: Record<string, string[]> = {
  Task: ["RegistrationInfo", "Triggers", "Settings", "Data", "Principals", "Actions"],
  RegistrationInfo: ["URI", "SecurityDescriptor", "Source", "Date", "Author", "Version", "Description", "Documentation"],
  Triggers: ["BootTrigger", "RegistrationTrigger", "IdleTrigger", "TimeTrigger", "EventTrigger", "LogonTrigger", "SessionStateChangeTrigger", "CalendarTrigger"],
  BootTrigger: ["Enabled", "StartBoundary", "EndBoundary", "Repetition", "ExecutionTimeLimit", "Delay"],
  TimeTrigger: ["Enabled", "StartBoundary", "EndBoundary", "Repetition", "ExecutionTimeLimit", "RandomDelay"],
  Repetition: ["Interval", "Duration", "StopAtDurationEnd"],
  Principals: ["Principal"],
  Principal: ["UserId", "LogonType", "GroupId", "DisplayName", "RunLevel", "ProcessTokenSidType", "RequiredPrivileges"],
  Settings: [
    "AllowStartOnDemand", "RestartOnFailure", "MultipleInstancesPolicy", "DisallowStartIfOnBatteries", "StopIfGoingOnBatteries",
    "AllowHardTerminate", "StartWhenAvailable", "NetworkProfileName", "RunOnlyIfNetworkAvailable", "WakeToRun", "Enabled", "Hidden",
    "DeleteExpiredTaskAfter", "IdleSettings", "NetworkSettings", "ExecutionTimeLimit", "Priority", "RunOnlyIfIdle",
    "UseUnifiedSchedulingEngine", "DisallowStartOnRemoteAppSession",
  ],
  IdleSettings: ["Duration", "WaitTimeout", "StopOnIdleEnd", "RestartOnIdle"],
  RestartOnFailure: ["Interval", "Count"],
  Actions: ["Exec", "ComHandler", "SendEmail", "ShowMessage"],
  Exec: ["Command", "Arguments", "WorkingDirectory"],
};
const REQUIRED: Record<string, string[]> = {
  Task: ["Actions"],
  TimeTrigger: ["StartBoundary"],
  Repetition: ["Interval"],
  RestartOnFailure: ["Interval", "Count"],
  Exec: ["Command"],
};

/** Every element is one the schema allows under its parent, at most once (xs:all), and required ones are there. */
function checkSchema(el: XmlElement, path = el.name): void {
  const allowed = ALLOWED[el.name];
  if (allowed) {
    const names = el.children.map((c) => c.name);
    for (const n of names) expect({ path, child: n, allowed: allowed.includes(n) }).toEqual({ path, child: n, allowed: true });
    if (el.name !== "Triggers" && el.name !== "Actions") expect({ path, duplicates: names.filter((n, i) => names.indexOf(n) !== i) }).toEqual({ path, duplicates: [] });
    for (const r of REQUIRED[el.name] ?? []) expect({ path, required: r, present: names.includes(r) }).toEqual({ path, required: r, present: true });
  }
  for (const c of el.children) checkSchema(c, `${path}/${c.name}`);
}

const minutes = (d: string) => {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  return Number(m[1] ?? 0) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 60;
};

async function installedXml(): Promise<Map<string, Uint8Array>> {
  const r = recordingHost();
  const { e } = env(r.host);
  expect((await runCli(taskCommand(e), "install")).code).toBe(0);
  return r.files as Map<string, Uint8Array>;
}

describe("Windows: the Task Scheduler XML", () => {
  test("written UTF-16 LE with a byte order mark, declared UTF-16, parseable", async () => {
    const files = await installedXml();
    expect([...files.keys()]).toEqual(["C:\\Temp\\clawdbot-task-1\\clawdbot.xml", "C:\\Temp\\clawdbot-task-1\\clawdbot-watchdog.xml"]);
    for (const bytes of files.values()) {
      expect([bytes[0], bytes[1]]).toEqual([0xff, 0xfe]);
      const xml = utf16(bytes);
      expect(xml).toStartWith('<?xml version="1.0" encoding="UTF-16"?>');
      const task = parseXml(xml);
      expect(task.name).toBe("Task");
      expect(task.attrs.xmlns).toBe("http://schemas.microsoft.com/windows/2004/02/mit/task");
      expect(task.attrs.version).toBe("1.2");
      checkSchema(task);
      // Present, not left to defaults (the default limit, 72 h, is what stops other bots).
      for (const part of ["RegistrationInfo", "Triggers", "Principals", "Settings", "Actions"]) child(task, part);
    }
  });

  test("clawdbot: at boot, as the installing user via S4U, no time limit, restart on failure, one instance", async () => {
    const task = parseXml(utf16((await installedXml()).get("C:\\Temp\\clawdbot-task-1\\clawdbot.xml") as Uint8Array));
    expect(text(task, "RegistrationInfo", "URI")).toBe("\\clawdbot");
    expect(child(task, "Triggers").children.map((c) => c.name)).toEqual(["BootTrigger"]);
    expect(text(task, "Triggers", "BootTrigger", "Enabled")).toBe("true");
    const principal = child(child(task, "Principals"), "Principal");
    expect(text(principal, "UserId")).toBe(USER);
    expect(text(principal, "LogonType")).toBe("S4U");
    expect(text(principal, "RunLevel")).toBe("LeastPrivilege");
    const s = child(task, "Settings");
    expect(text(s, "ExecutionTimeLimit")).toBe("PT0S");
    expect(text(s, "MultipleInstancesPolicy")).toBe("IgnoreNew");
    const interval = minutes(text(s, "RestartOnFailure", "Interval"));
    expect(interval).toBeGreaterThanOrEqual(1); // schema: PT1M to P31D
    expect(interval).toBeLessThanOrEqual(31 * 1440);
    const count = Number(text(s, "RestartOnFailure", "Count"));
    expect(count).toBeGreaterThanOrEqual(1); // schema: unsignedByte, at least 1
    expect(count).toBeLessThanOrEqual(255);
    for (const [k, v] of Object.entries({ DisallowStartIfOnBatteries: "false", StopIfGoingOnBatteries: "false", Enabled: "true", AllowStartOnDemand: "true", StartWhenAvailable: "true", AllowHardTerminate: "true" })) {
      expect({ k, v: text(s, k) }).toEqual({ k, v });
    }
    const actions = child(task, "Actions");
    expect(actions.attrs.Context).toBe(principal.attrs.id as string);
    expect(text(actions, "Exec", "Command")).toBe(EXE);
    expect(text(actions, "Exec", "Arguments")).toBe("run");
    expect(text(actions, "Exec", "WorkingDirectory")).toBe(DIR);
  });

  test("clawdbot-watchdog: every 5 minutes, health, and the bot's task ended and run again on exit 2", async () => {
    const task = parseXml(utf16((await installedXml()).get("C:\\Temp\\clawdbot-task-1\\clawdbot-watchdog.xml") as Uint8Array));
    const trigger = child(child(task, "Triggers"), "TimeTrigger");
    expect(text(trigger, "StartBoundary")).toBe("2025-03-01T10:00:00");
    expect(text(trigger, "Repetition", "Interval")).toBe("PT5M");
    expect(() => child(child(trigger, "Repetition"), "Duration")).toThrow(); // absent: repeats indefinitely
    expect(text(task, "Principals", "Principal", "LogonType")).toBe("S4U");
    expect(text(task, "Principals", "Principal", "RunLevel")).toBe("HighestAvailable");
    expect(minutes(text(task, "Settings", "ExecutionTimeLimit"))).toBeLessThan(5);
    expect(text(task, "Settings", "MultipleInstancesPolicy")).toBe("IgnoreNew");
    expect(text(task, "Actions", "Exec", "Command")).toBe("%SystemRoot%\\System32\\cmd.exe");
    expect(text(task, "Actions", "Exec", "Arguments")).toBe(watchdogArguments(EXE));
    expect(text(task, "Actions", "Exec", "WorkingDirectory")).toBe(DIR);
  });

  test("the watchdog's command line: what cmd /s /c runs once it strips the outer quotes", () => {
    const args = watchdogArguments(EXE);
    const st = "%SystemRoot%\\System32\\schtasks.exe";
    expect(args).toBe(`/d /s /c ""${EXE}" health || if errorlevel 2 (${st} /End /TN clawdbot & ${st} /Run /TN clawdbot)"`);
    // cmd.exe /s: remove the first quote after /c and the last quote of the line, run the rest.
    const after = args.slice(args.indexOf("/c ") + 3);
    expect(after.startsWith('"') && after.endsWith('"')).toBe(true);
    const runs = after.slice(1, -1);
    expect(runs).toBe(`"${EXE}" health || if errorlevel 2 (${st} /End /TN clawdbot & ${st} /Run /TN clawdbot)`);
    // The path stays quoted, so its spaces and & are literal; exactly one pair of quotes in what runs.
    expect(runs.split('"')).toHaveLength(3);
  });

  test("paths Task Scheduler or cmd.exe would misread are refused", () => {
    expect(() => windowsTasks({ exe: "clawdbot.exe", user: USER, now: NOW })).toThrow("not an absolute Windows path");
    expect(() => windowsTasks({ exe: "C:\\100%\\clawdbot.exe", user: USER, now: NOW })).toThrow("no % in it");
  });
});

describe("Windows: install and uninstall", () => {
  test("install: the exact schtasks calls, what it registered, temp files removed", async () => {
    const r = recordingHost();
    const { e, out } = env(r.host);
    const res = await runCli(taskCommand(e), "install");
    expect(res.code).toBe(0);
    expect(r.calls).toEqual([
      [SCHTASKS, "/Create", "/XML", "C:\\Temp\\clawdbot-task-1\\clawdbot.xml", "/TN", "clawdbot", "/F"],
      [SCHTASKS, "/Create", "/XML", "C:\\Temp\\clawdbot-task-1\\clawdbot-watchdog.xml", "/TN", "clawdbot-watchdog", "/F"],
      [SCHTASKS, "/Run", "/TN", "clawdbot"],
    ]);
    expect(r.dirs).toEqual(["C:\\Temp\\clawdbot-task-1"]);
    expect(out[0]).toBe(
      `registered task clawdbot: at boot, as ${USER} (S4U: whether logged on or not, no window), no time limit, restarted every minute on failure: "${EXE}" run (in ${DIR})`,
    );
    expect(out[1]).toBe(`registered task clawdbot-watchdog: every 5 minutes, as ${USER} (highest privileges, to end and run the bot's task): %SystemRoot%\\System32\\cmd.exe ${watchdogArguments(EXE)}`);
    expect(out[2]).toStartWith("started task clawdbot");
  });

  test("not elevated: one line, exit 2, nothing registered", async () => {
    const r = recordingHost({ privileged: false });
    const res = await runCli(taskCommand(env(r.host).e), "install");
    expect(res.code).toBe(2);
    expect(res.message).toStartWith("clawdbot task: not an elevated prompt: ");
    expect(res.message).toContain("Run as administrator");
    expect(res.message).not.toContain("\n");
    expect(r.calls).toEqual([]);
    expect(r.files.size).toBe(0);
  });

  test("schtasks refusing (Access is denied): exit 2 with its words and the advice; temp files still removed", async () => {
    const denied = { code: 1, output: "ERROR: Access is denied.\r\n" };
    const r = recordingHost({ answers: { "C:\\Windows\\System32\\schtasks.exe /Create /XML C:\\Temp\\clawdbot-task-1\\clawdbot.xml /TN clawdbot /F": denied } });
    const res = await runCli(taskCommand(env(r.host).e), "install");
    expect(res.code).toBe(2);
    expect(res.message).toBe(
      "clawdbot task: C:\\Windows\\System32\\schtasks.exe /Create /XML C:\\Temp\\clawdbot-task-1\\clawdbot.xml /TN clawdbot /F failed (exit 1): ERROR: Access is denied.; registering tasks that run at boot, whether or not you are logged on, needs administrator rights: open the prompt with Run as administrator and run it again",
    );
    expect(r.calls).toHaveLength(1);
    expect(r.dirs).toEqual(["C:\\Temp\\clawdbot-task-1"]);
  });

  test("uninstall: watchdog first, the bot ended then deleted; a task that is not there is said so", async () => {
    const missing = { code: 1, output: "ERROR: The system cannot find the file specified.\r\n" };
    const r = recordingHost({ answers: { "C:\\Windows\\System32\\schtasks.exe /Query /TN clawdbot-watchdog": missing } });
    const { e, out } = env(r.host);
    expect((await runCli(taskCommand(e), "uninstall")).code).toBe(0);
    expect(r.calls).toEqual([
      [SCHTASKS, "/Query", "/TN", "clawdbot-watchdog"],
      [SCHTASKS, "/Query", "/TN", "clawdbot"],
      [SCHTASKS, "/End", "/TN", "clawdbot"],
      [SCHTASKS, "/Delete", "/TN", "clawdbot", "/F"],
    ]);
    expect(out).toEqual(["task clawdbot-watchdog is not registered", "removed task clawdbot"]);
  });

  test("install and uninstall only for the machine they run on; print for any", async () => {
    const r = recordingHost();
    const { e, out } = env(r.host, { platform: "linux" });
    const res = await runCli(taskCommand(e), "install", "--platform", "windows");
    expect(res).toMatchObject({ code: 2, message: "clawdbot task install: this is not windows; use clawdbot task print --platform windows to see the definition" });
    expect((await runCli(taskCommand(e), "print", "--platform", "windows")).code).toBe(0);
    expect(out[0]).toStartWith("==> clawdbot.xml");
    expect(parseXml(out[1] as string).name).toBe("Task");
    expect((await runCli(taskCommand(e), "print", "--platform", "macos")).message).toBe('clawdbot task: --platform "macos": windows or linux');
    const fromSource = env(r.host, { self: () => null }).e;
    expect((await runCli(taskCommand(fromSource), "print")).message).toStartWith("clawdbot task: running from source: pass --exe");
  });
});

describe("Linux: systemd units", () => {
  const LEXE = "/opt/claw bot/clawdbot";
  const linux = (host: ServiceHost, extra: Record<string, string> = {}) =>
    env(host, { platform: "linux", self: () => LEXE, env: { HOME: "/home/ops", SUDO_USER: "ops", ...extra } });

  test("the service restarts always and runs as the user who ran sudo; the timer runs the watchdog every 5 minutes", () => {
    const [svc, watchdog, timer] = systemdUnits({ exe: LEXE, user: false, runAs: "ops" }).map((u) => u.text);
    expect(svc).toContain('\nExecStart="/opt/claw bot/clawdbot" run\n');
    expect(svc).toContain("\nRestart=always\n");
    expect(svc).toContain("\nUser=ops\n");
    expect(svc).toContain("\nWorkingDirectory=/opt/claw bot\n");
    expect(svc).toContain("\nWantedBy=multi-user.target\n");
    expect(watchdog).toContain("\nType=oneshot\n");
    expect(watchdog).toContain(`\nExecStart=/bin/sh -c '"${LEXE}" health || [ $$? -lt 2 ] || systemctl restart clawdbot.service'\n`);
    expect(timer).toContain("\nOnUnitActiveSec=5min\n");
    expect(timer).toContain("\nUnit=clawdbot-watchdog.service\n");
    expect(systemdUnits({ exe: "/opt/100%/clawdbot", user: true })[0]?.text).toContain('ExecStart="/opt/100%%/clawdbot" run');
    expect(() => systemdUnits({ exe: "/opt/it's/clawdbot", user: false })).toThrow("without quotes");
  });

  test("the watchdog's shell line restarts only when health exits 2", async () => {
    const dir = tempDir();
    try {
      const [, watchdog] = systemdUnits({ exe: join(dir, "clawdbot"), user: false });
      // What systemd runs: the ExecStart line after its own unquoting ($$ is $).
      const line = /ExecStart=\/bin\/sh -c '(.*)'\n/.exec(watchdog?.text ?? "")?.[1]?.replace(/\$\$/g, "$") as string;
      mkdirSync(join(dir, "bin"));
      writeFileSync(join(dir, "bin", "systemctl"), `#!/bin/sh\necho "$@" >> "${dir}/restarts"\n`);
      chmodSync(join(dir, "bin", "systemctl"), 0o755);
      for (const code of [0, 1, 2]) {
        writeFileSync(join(dir, "clawdbot"), `#!/bin/sh\nexit ${code}\n`);
        chmodSync(join(dir, "clawdbot"), 0o755);
        const p = Bun.spawnSync(["/bin/sh", "-c", line], { env: { PATH: `${join(dir, "bin")}:/usr/bin:/bin` } });
        expect({ code, exit: p.exitCode }).toEqual({ code, exit: 0 });
      }
      expect(await Bun.file(join(dir, "restarts")).text()).toBe("restart clawdbot.service\n");
    } finally {
      cleanup(dir);
    }
  });

  test("install: three files, daemon-reload, enable --now; as root only", async () => {
    const r = recordingHost();
    const { e, out } = linux(r.host);
    expect((await runCli(taskCommand(e), "install")).code).toBe(0);
    expect([...r.files.keys()]).toEqual([
      "/etc/systemd/system/clawdbot.service",
      "/etc/systemd/system/clawdbot-watchdog.service",
      "/etc/systemd/system/clawdbot-watchdog.timer",
    ]);
    expect(r.calls).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "clawdbot.service", "clawdbot-watchdog.timer"],
    ]);
    expect(out).toContain('enabled and started clawdbot.service: "/opt/claw bot/clawdbot" run, as ops, Restart=always');

    const notRoot = recordingHost({ privileged: false });
    const res = await runCli(taskCommand(linux(notRoot.host).e), "install");
    expect(res).toMatchObject({ code: 2, message: "clawdbot task: writing /etc/systemd/system needs root: run it with sudo, or pass --user for your own systemd instance" });
    expect(notRoot.calls).toEqual([]);
  });

  test("--user: the user's unit directory and systemctl --user, no root needed", async () => {
    const r = recordingHost({ privileged: false });
    const { e, out } = linux(r.host, { XDG_CONFIG_HOME: "/home/ops/.cfg" });
    expect((await runCli(taskCommand(e), "install", "--user")).code).toBe(0);
    expect([...r.files.keys()][0]).toBe("/home/ops/.cfg/systemd/user/clawdbot.service");
    expect(r.files.get("/home/ops/.cfg/systemd/user/clawdbot.service")).not.toContain("User=");
    expect(r.files.get("/home/ops/.cfg/systemd/user/clawdbot-watchdog.service")).toContain("systemctl --user restart clawdbot.service");
    expect(r.calls).toEqual([
      ["systemctl", "--user", "daemon-reload"],
      ["systemctl", "--user", "enable", "--now", "clawdbot.service", "clawdbot-watchdog.timer"],
    ]);
    expect(out).toContain("to start at boot without logging in: sudo loginctl enable-linger $USER");
  });

  test("uninstall: disable --now, the files removed, daemon-reload", async () => {
    const r = recordingHost();
    const { e } = linux(r.host);
    expect((await runCli(taskCommand(e), "uninstall")).code).toBe(0);
    expect(r.calls).toEqual([
      ["systemctl", "disable", "--now", "clawdbot-watchdog.timer", "clawdbot.service"],
      ["systemctl", "daemon-reload"],
    ]);
    expect(r.removed).toEqual(["/etc/systemd/system/clawdbot.service", "/etc/systemd/system/clawdbot-watchdog.service", "/etc/systemd/system/clawdbot-watchdog.timer"]);
  });
});

test("the compiled binary prints both definitions with its own path", async () => {
  const bin = await ensureBinary();
  const linuxOut = Bun.spawnSync([bin, "task", "print", "--platform", "linux"], { env: { PATH: process.env.PATH ?? "", HOME: "/home/x" } });
  expect(linuxOut.exitCode).toBe(0);
  expect(linuxOut.stdout.toString()).toContain(`ExecStart="${bin}" run`);
  const win = Bun.spawnSync([bin, "task", "print", "--platform", "windows", "--exe", EXE], { env: { PATH: process.env.PATH ?? "", USERNAME: "ops", USERDOMAIN: "ACME" } });
  expect(win.exitCode).toBe(0);
  const xml = win.stdout.toString().split(/^==> .* <==$/m).filter((s) => s.trim());
  expect(xml.map((x) => text(parseXml(x.trim()), "Principals", "Principal", "UserId"))).toEqual([USER, USER]);
  const refused = Bun.spawnSync([bin, "task", "install", "--platform", "windows"], { env: { PATH: process.env.PATH ?? "" } });
  expect(refused.exitCode).toBe(2);
  expect(refused.stderr.toString()).toBe("clawdbot task install: this is not windows; use clawdbot task print --platform windows to see the definition\n");
});
