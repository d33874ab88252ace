import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HeadTail, runProcess } from "../../src/jobs/run-process.ts";
import { shellArgv } from "../../src/jobs/shell.ts";

const dir = mkdtempSync(join(tmpdir(), "clawdbot-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sh = (command: string) => shellArgv(command, "linux");

/** Alive and not a zombie: an orphan may sit unreaped when PID 1 does not reap (containers). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true; // no /proc (macOS): kill(0) said alive
  }
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

describe.skipIf(process.platform === "win32")("runProcess (POSIX)", () => {
  test("collects stdout, stderr and both interleaved in arrival order", async () => {
    const r = await runProcess({ argv: sh("echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three"), timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("one\nthree\n");
    expect(r.stderr).toBe("two\n");
    expect(r.output).toBe("one\ntwo\nthree\n");
    expect(r.timedOut).toBe(false);
    expect(r.truncatedBytes).toBe(0);
  });

  test("onSpawn reports the pid, which leads the job's process group", async () => {
    let seen = 0;
    const r = await runProcess({ argv: sh("echo $$"), timeoutMs: 5000, onSpawn: (pid) => (seen = pid) });
    expect(seen).toBeGreaterThan(0);
    expect(r.output.trim()).toBe(String(seen));
  });

  test("exit codes propagate; cwd is honoured", async () => {
    expect((await runProcess({ argv: sh("exit 7"), timeoutMs: 10_000 })).exitCode).toBe(7);
    const r = await runProcess({ argv: sh("pwd"), cwd: dir, timeoutMs: 10_000 });
    expect(r.stdout.trim()).toBe(Bun.fileURLToPath(Bun.pathToFileURL(dir)));
  });

  test("stdin is written and closed", async () => {
    const r = await runProcess({ argv: sh("cat; echo done"), stdin: "hello\nworld", timeoutMs: 10_000 });
    expect(r.stdout).toBe("hello\nworlddone\n");
  });

  test("without stdin the child reads EOF at once", async () => {
    const r = await runProcess({ argv: sh("cat; echo eof"), timeoutMs: 10_000 });
    expect(r.stdout).toBe("eof\n");
  });

  test("timeout kills the whole process tree, grandchildren included", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const r = await runProcess({
      argv: sh(`sleep 30 & echo $! > "${pidFile}"; wait`),
      timeoutMs: 300,
    });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.durationMs).toBeLessThan(5000);
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(grandchild).toBeGreaterThan(0);
    await until(() => !isAlive(grandchild));
  });

  test("abort kills the tree and says so", async () => {
    const pidFile = join(dir, "aborted.pid");
    const ac = new AbortController();
    const running = runProcess({ argv: sh(`sleep 30 & echo $! > "${pidFile}"; wait`), timeoutMs: 30_000, signal: ac.signal });
    await until(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "");
    ac.abort();
    const r = await running;
    expect(r.aborted).toBe(true);
    expect(r.timedOut).toBe(false);
    await until(() => !isAlive(Number(readFileSync(pidFile, "utf8"))));
  });

  test("an already aborted signal starts nothing", async () => {
    const marker = join(dir, "never");
    const r = await runProcess({ argv: sh(`touch "${marker}"`), timeoutMs: 10_000, signal: AbortSignal.abort() });
    expect(r.aborted).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });

  test("1 MiB of output arrives whole", async () => {
    const r = await runProcess({ argv: sh("head -c 1048576 /dev/zero | tr '\\0' 'x'"), timeoutMs: 20_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(1048576);
    expect(r.output.length).toBe(1048576);
    expect(/^x+$/.test(r.stdout)).toBe(true);
    expect(r.truncatedBytes).toBe(0);
  });

  test("over maxOutputBytes: head and tail kept, the cut stated", async () => {
    const r = await runProcess({
      argv: sh("printf 'HEAD'; head -c 100000 /dev/zero | tr '\\0' 'x'; printf 'TAIL'"),
      timeoutMs: 20_000,
      maxOutputBytes: 1000,
    });
    // Head and tail keep 500 bytes each, less the guard of 1000/8 bytes each side of the cut.
    const cut = 100008 - 1000 + 2 * 125;
    expect(r.truncatedBytes).toBe(cut);
    expect(r.output.startsWith("HEAD")).toBe(true);
    expect(r.output.endsWith("TAIL")).toBe(true);
    expect(r.output).toContain(`[... ${cut} bytes cut`);
    expect(r.stdout).toBe(r.output);
  });

  test("a missing cwd rejects", async () => {
    await expect(runProcess({ argv: sh("true"), cwd: join(dir, "nope"), timeoutMs: 1000 })).rejects.toThrow();
  });
});

describe("HeadTail", () => {
  test("keeps all up to max, then head and tail with the exact cut", () => {
    const h = new HeadTail(10, 0);
    h.push(Buffer.from("0123456789"));
    expect(h.text()).toBe("0123456789");
    h.push(Buffer.from("abcdefghij"));
    expect(h.cut).toBe(10);
    expect(h.text()).toMatch(/^01234\n\[\.\.\. 10 bytes cut.*\]\nfghij$/);
  });

  test("a cut never splits a secret: the kept parts end and start at a separator near the cut", () => {
    const h = new HeadTail(40, 16);
    // The head's nominal end (byte 20) and the tail's start (20 bytes from the end) fall inside the secrets.
    h.push(Buffer.from("aaaa bbbb SECRET1234567 middle and more text to drop SECRET7654321 the end"));
    expect(h.text().replace(/\n\[.*\]\n/, "|")).toBe("aaaa bbbb | the end");
  });

  test("a cut with no separator near it moves `guard` bytes away, so no short token is split", () => {
    const h = new HeadTail(20, 4);
    h.push(Buffer.from("0123456789abcdefghijklmnopqrstuvwxyz"));
    // head 0..9 less 4, tail the last 10 less 4; the cut counts what the guard dropped.
    expect(h.text()).toMatch(/^012345\n\[\.\.\. 24 bytes cut.*\]\nuvwxyz$/);
    expect(h.cut).toBe(24);
  });

  test("never splits a UTF-8 character", () => {
    const h = new HeadTail(7);
    for (let i = 0; i < 10; i++) h.push(Buffer.from("é€"));
    const t = h.text();
    expect(t).not.toContain("\uFFFD");
    expect(h.cut).toBe(50 - Buffer.byteLength(t.replace(/\n\[.*\]\n/, "")));
  });
});
