// Runs one child process to completion with a deadline: collects its output (bounded),
// feeds it stdin, and on timeout or abort kills the whole process tree, not just the
// shell, so nothing the job started keeps running after we report it finished.
import { isCmdArgv } from "./shell.ts";

export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** After the child exits, how long its pipes may stay open (a backgrounded grandchild holding them). */
const DRAIN_GRACE_MS = 2000;
/** taskkill should take milliseconds; never let a stuck one hold a job open. */
const TASKKILL_TIMEOUT_MS = 10_000;

export interface RunOptions {
  argv: string[];
  cwd?: string;
  /** Written in full, then stdin is closed. Without it the child's stdin is empty (/dev/null, NUL). */
  stdin?: string;
  timeoutMs: number;
  /** The child's whole environment; defaults to this process's environment. */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** Per stream and for the interleaved output; beyond it head and tail are kept with a marker. */
  maxOutputBytes?: number;
  /** win32 only: pass argv unquoted. Defaults to true for a cmd.exe argv (see shellArgv). */
  windowsVerbatimArguments?: boolean;
  /** After exit, how long to wait for pipes a backgrounded grandchild still holds. Default 2 s. */
  drainGraceMs?: number;
  /** Called once the child runs, with its pid (on POSIX also its process group id: it is spawned detached). */
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  /** null when the process was killed by a signal (timeout, abort) or could not report one. */
  exitCode: number | null;
  /** stdout and stderr interleaved in arrival order. */
  output: string;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The caller's AbortSignal fired (or had fired before the start: then nothing ran). */
  aborted: boolean;
  durationMs: number;
  /** Bytes of `output` dropped between head and tail; 0 when everything was kept. */
  truncatedBytes: number;
}

/** Spawn errors (missing cwd or executable) reject; everything after the start resolves. */
export async function runProcess(opts: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const output = new HeadTail(max);
  const stdout = new HeadTail(max);
  const stderr = new HeadTail(max);
  const result = (exitCode: number | null, timedOut: boolean, aborted: boolean): RunResult => ({
    exitCode,
    output: output.text(),
    stdout: stdout.text(),
    stderr: stderr.text(),
    timedOut,
    aborted,
    durationMs: Math.round(performance.now() - started),
    truncatedBytes: output.cut,
  });
  if (opts.signal?.aborted) return result(null, false, true);

  const win = process.platform === "win32";
  const proc = Bun.spawn(opts.argv, {
    cwd: opts.cwd,
    env: opts.env ?? { ...process.env },
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
    // POSIX: setsid() makes the child a process group leader, so -pid reaches its whole tree.
    // Not on win32: there it means DETACHED_PROCESS (no console), and taskkill /T walks the tree anyway.
    detached: !win,
    windowsHide: true,
    windowsVerbatimArguments: opts.windowsVerbatimArguments ?? isCmdArgv(opts.argv),
  });

  try {
    opts.onSpawn?.(proc.pid);
  } catch {
    // recording the pid is best effort; the job runs either way
  }

  let timedOut = false;
  let aborted = false;
  let killing: Promise<void> | undefined;
  const kill = () => {
    killing ??= killTree(proc);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, opts.timeoutMs);
  const onAbort = () => {
    aborted = true;
    kill();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  const pumps = [pump(proc.stdout, stdout, output), pump(proc.stderr, stderr, output)];
  try {
    await proc.exited;
    clearTimeout(timer);
    // Output still in the pipes arrives after exit; a grandchild left holding them must not hold us.
    let grace: Timer | undefined;
    await Promise.race([
      Promise.all(pumps.map((p) => p.done)),
      new Promise<void>((resolve) => (grace = setTimeout(resolve, opts.drainGraceMs ?? DRAIN_GRACE_MS))),
    ]);
    clearTimeout(grace);
    await Promise.all(pumps.map((p) => p.stop()));
    await killing;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  }
  // Bun reports a signal death as exitCode null; keep that rather than a shell-style 128+n.
  return result(proc.exitCode, timedOut, aborted);
}

type Timer = ReturnType<typeof setTimeout>;

/** Kills the child and everything it started. Never throws: the tree may already be gone. */
async function killTree(proc: { pid: number; kill(signal?: number | NodeJS.Signals): void }): Promise<void> {
  if (process.platform === "win32") {
    // No process groups to signal on Windows: taskkill /T walks the parent-child tree (while the
    // root still lives, which it does until we kill it here), /F forces.
    await taskkill(proc.pid);
    try {
      proc.kill();
    } catch {}
    return;
  }
  try {
    process.kill(-proc.pid, "SIGKILL");
  } catch {
    try {
      proc.kill("SIGKILL");
    } catch {}
  }
}

async function taskkill(pid: number): Promise<void> {
  try {
    const systemRoot = process.env.SystemRoot || process.env.windir || "C:\\Windows";
    const tk = Bun.spawn([`${systemRoot}\\System32\\taskkill.exe`, "/pid", String(pid), "/T", "/F"], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
      windowsHide: true,
      timeout: TASKKILL_TIMEOUT_MS,
    });
    await tk.exited;
  } catch {
    // the caller falls back to killing the root at least
  }
}

interface Pump {
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Reads one stream into its own buffer and the shared interleaved one, chunk by chunk. */
function pump(stream: ReadableStream<Uint8Array>, own: HeadTail, shared: HeadTail): Pump {
  const reader = stream.getReader();
  // Decoding per stream keeps a multi-byte character split across chunks intact even
  // when the other stream's chunk lands between the halves.
  const decoder = new TextDecoder();
  const add = (text: string) => {
    if (!text) return;
    const bytes = Buffer.from(text, "utf8");
    own.push(bytes);
    shared.push(bytes);
  };
  const done = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        add(decoder.decode(value, { stream: true }));
      }
    } catch {
      // cancelled or the pipe broke: what arrived is kept
    }
    add(decoder.decode());
  })();
  return {
    done,
    async stop() {
      await reader.cancel().catch(() => {});
      await done;
    },
  };
}

/**
 * Keeps everything up to `max` bytes; beyond that the first and last halves, and counts
 * the bytes dropped between them so the cut is always stated, never silent.
 */
export class HeadTail {
  private head: Buffer | undefined;
  private tail: Buffer[] = [];
  private tailSize = 0;
  cut = 0;

  constructor(private readonly max: number) {}

  push(bytes: Buffer): void {
    this.tail.push(bytes);
    this.tailSize += bytes.length;
    if (this.head === undefined) {
      if (this.tailSize <= this.max) return;
      const all = Buffer.concat(this.tail);
      const headEnd = charStart(all, Math.floor(this.max / 2), -1);
      this.head = all.subarray(0, headEnd);
      this.tail = [all.subarray(headEnd)];
      this.tailSize = all.length - headEnd;
    }
    this.trimTail(this.max - this.head.length);
  }

  private trimTail(keep: number): void {
    while (this.tailSize > keep) {
      const first = this.tail[0];
      if (first === undefined) return;
      const excess = this.tailSize - keep;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailSize -= first.length;
        this.cut += first.length;
      } else {
        const from = charStart(first, excess, +1);
        this.tail[0] = first.subarray(from);
        this.tailSize -= from;
        this.cut += from;
        return;
      }
    }
  }

  text(): string {
    const tail = Buffer.concat(this.tail).toString("utf8");
    if (this.head === undefined) return tail;
    return `${this.head.toString("utf8")}\n[... ${this.cut} bytes cut: output over ${this.max} bytes, first and last part kept ...]\n${tail}`;
  }
}

/** Moves i onto the start of a UTF-8 character (backwards or forwards) so a cut never splits one. */
function charStart(buf: Buffer, i: number, dir: -1 | 1): number {
  while (i > 0 && i < buf.length && ((buf[i] ?? 0) & 0xc0) === 0x80) i += dir;
  return i;
}
