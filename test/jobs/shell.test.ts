import { describe, expect, test } from "bun:test";
import { isCmdArgv, shellArgv, shellRefusal } from "../../src/jobs/shell.ts";

describe("shellArgv", () => {
  test("win32: cmd.exe /d /s /c with the command in outer quotes, untouched inside", () => {
    const cmd = 'echo "a b" && echo b > f';
    expect(shellArgv(cmd, "win32", "cmd.exe")).toEqual(["cmd.exe", "/d", "/s", "/c", `"${cmd}"`]);
  });

  test("win32: uses ComSpec's absolute path when given", () => {
    const argv = shellArgv("dir", "win32", "C:\\Windows\\system32\\cmd.exe");
    expect(argv[0]).toBe("C:\\Windows\\system32\\cmd.exe");
    expect(isCmdArgv(argv)).toBe(true);
  });

  test("POSIX: /bin/sh -c", () => {
    expect(shellArgv("echo a && echo b > f", "linux")).toEqual(["/bin/sh", "-c", "echo a && echo b > f"]);
    expect(shellArgv("ls", "darwin")).toEqual(["/bin/sh", "-c", "ls"]);
    expect(isCmdArgv(shellArgv("ls", "linux"))).toBe(false);
  });
});

describe("shellRefusal", () => {
  test("win32: a multi-line command is refused (cmd.exe would run only its first line)", () => {
    expect(shellRefusal("echo one > m1\necho two > m2", "win32")).toContain("first line");
    expect(shellRefusal("echo one\r\necho two", "win32")).toContain("&&");
    expect(shellRefusal("echo a && echo b > f", "win32")).toBeUndefined();
  });

  test("POSIX: sh runs every line, nothing is refused", () => {
    expect(shellRefusal("echo one\necho two", "linux")).toBeUndefined();
  });
});
