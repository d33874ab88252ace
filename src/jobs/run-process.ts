// Runs one child process to completion with a deadline: collects its output (bounded),
// feeds it stdin, and on timeout or abort kills the whole process tree, not just the shell.
// A run is over when its main process exits; whatever it left running is killed then, so
// nothing it started runs on after we report it finished (tree.ts says how, per platform).
import { isCmdArgv } from "./shell.ts";
import { defaultTree, type TreeFactory, type TreeReport } from "./tree.ts";

export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** After the child exits, how long its pipes may stay open (a grandchild that escaped the kill holding them). */
const DRAIN_GRACE_MS = 2000;

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
  /** What holds the child's process tree together; the platform's strongest means by default (tests choose). */
  tree?: TreeFactory;
  /** Output as it arrives (decoded, unbounded, unredacted: the caller redacts what it shows). */
  onOutput?: (text: string, stream: "stdout" | "stderr") => void;
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
  /** What was killed (the whole tree on timeout or abort, else what the child left running) and what was verified. */
  tree?: TreeReport;
}

/** Spawn errors (missing cwd or executable) reject; everything after the start resolves. */
export async function runProcess(opts: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const output = new HeadTail(max);
  const stdout = new HeadTail(max);
  const stderr = new HeadTail(max);
  const result = (exitCode: number | null, timedOut: boolean, aborted: boolean, tree?: TreeReport): RunResult => ({
    exitCode,
    output: output.text(),
    stdout: stdout.text(),
    stderr: stderr.text(),
    timedOut,
    aborted,
    durationMs: Math.round(performance.now() - started),
    truncatedBytes: output.cut,
    ...(tree ? { tree } : {}),
  });
  if (opts.signal?.aborted) return result(null, false, true);

  const win = process.platform === "win32";
  const tree = (opts.tree ?? defaultTree)();
  const spawn = () =>
    Bun.spawn(tree.wrap(opts.argv), {
      cwd: opts.cwd,
      env: opts.env ?? { ...process.env },
      stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
      stdout: "pipe",
      stderr: "pipe",
      // POSIX: setsid() makes the child a process group leader, so -pid reaches its group.
      // Not on win32: there it means DETACHED_PROCESS (no console); the Job Object holds the tree.
      detached: !win,
      windowsHide: true,
      windowsVerbatimArguments: opts.windowsVerbatimArguments ?? isCmdArgv(opts.argv),
    });
  let proc: ReturnType<typeof spawn>;
  try {
    proc = spawn();
  } catch (err) {
    tree.release();
    throw err;
  }
  tree.attach(proc);

  try {
    opts.onSpawn?.(proc.pid);
  } catch {
    // recording the pid is best effort; the job runs either way
  }

  let timedOut = false;
  let aborted = false;
  let killing: Promise<TreeReport> | undefined;
  const kill = () => {
    killing ??= tree.killAll();
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

  const pumps = [
    pump(proc.stdout, stdout, output, opts.onOutput && ((t) => opts.onOutput?.(t, "stdout"))),
    pump(proc.stderr, stderr, output, opts.onOutput && ((t) => opts.onOutput?.(t, "stderr"))),
  ];
  let report: TreeReport | null = null;
  try {
    await proc.exited;
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
    // Done: whatever it left running is killed now, which also closes the pipes those held.
    report = await (killing ?? tree.reap());
    // Output still in the pipes arrives after exit; a grandchild that escaped must not hold us.
    let grace: Timer | undefined;
    await Promise.race([
      Promise.all(pumps.map((p) => p.done)),
      new Promise<void>((resolve) => (grace = setTimeout(resolve, opts.drainGraceMs ?? DRAIN_GRACE_MS))),
    ]);
    clearTimeout(grace);
    await Promise.all(pumps.map((p) => p.stop()));
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
    tree.release();
  }
  // Bun reports a signal death as exitCode null; keep that rather than a shell-style 128+n.
  return result(proc.exitCode, timedOut, aborted, report ?? undefined);
}

type Timer = ReturnType<typeof setTimeout>;

interface Pump {
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Reads one stream into its own buffer and the shared interleaved one, chunk by chunk. */
function pump(stream: ReadableStream<Uint8Array>, own: HeadTail, shared: HeadTail, onText?: (text: string) => void): Pump {
  const reader = stream.getReader();
  // Decoding per stream keeps a multi-byte character split across chunks intact even
  // when the other stream's chunk lands between the halves.
  const decoder = new TextDecoder();
  const add = (text: string) => {
    if (!text) return;
    const bytes = Buffer.from(text, "utf8");
    own.push(bytes);
    shared.push(bytes);
    try {
      onText?.(text);
    } catch {
      // a listener's fault is not the process's
    }
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
 *
 * A cut must not split a secret in two: neither piece would be recognised by the redactor.
 * So the kept parts end and begin at a separator (whitespace or NUL, which no token holds)
 * near the cut, or `guard` bytes away from it: a token of up to `guard` bytes is either kept
 * whole or dropped whole.
 */
export class HeadTail {
  private head: Buffer | undefined;
  private tail: Buffer[] = [];
  private tailSize = 0;
  private dropped = 0;
  private readonly guard: number;
  /** kept() of the current contents (it copies the tail: computed once per change). */
  private snapshot: { head?: Buffer; tail: Buffer; cut: number } | undefined;

  constructor(
    private readonly max: number,
    guard = Math.min(1024, Math.floor(max / 8)),
  ) {
    this.guard = guard;
  }

  push(bytes: Buffer): void {
    this.snapshot = undefined;
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
        this.dropped += first.length;
      } else {
        const from = charStart(first, excess, +1);
        this.tail[0] = first.subarray(from);
        this.tailSize -= from;
        this.dropped += from;
        return;
      }
    }
  }

  /** What is kept: the head up to a safe end, the tail from a safe start, and the bytes cut. */
  private kept(): { head?: Buffer; tail: Buffer; cut: number } {
    if (this.snapshot) return this.snapshot;
    const tail = Buffer.concat(this.tail);
    if (this.head === undefined) {
      this.snapshot = { tail, cut: 0 };
    } else {
      const headEnd = safeEnd(this.head, this.guard);
      const tailStart = safeStart(tail, this.guard);
      this.snapshot = {
        head: this.head.subarray(0, headEnd),
        tail: tail.subarray(tailStart),
        cut: this.dropped + (this.head.length - headEnd) + tailStart,
      };
    }
    return this.snapshot;
  }

  get cut(): number {
    return this.kept().cut;
  }

  text(): string {
    const { head, tail, cut } = this.kept();
    if (head === undefined) return tail.toString("utf8");
    return `${head.toString("utf8")}\n[... ${cut} bytes cut: output over ${this.max} bytes, first and last part kept ...]\n${tail.toString("utf8")}`;
  }
}

const isSeparator = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x00;

/** Where the head may end: after the last separator within `guard` bytes of its end, else `guard` bytes before it. */
function safeEnd(head: Buffer, guard: number): number {
  if (guard === 0) return head.length;
  for (let i = head.length - 1; i >= Math.max(0, head.length - guard); i--) if (isSeparator(head[i])) return i + 1;
  return charStart(head, Math.max(0, head.length - guard), -1);
}

/** Where the tail may start: at the first separator within `guard` bytes of its start, else `guard` bytes in. */
function safeStart(tail: Buffer, guard: number): number {
  if (guard === 0) return 0;
  for (let i = 0; i < Math.min(tail.length, guard); i++) if (isSeparator(tail[i])) return i;
  return charStart(tail, Math.min(tail.length, guard), +1);
}

/** Moves i onto the start of a UTF-8 character (backwards or forwards) so a cut never splits one. */
function charStart(buf: Buffer, i: number, dir: -1 | 1): number {
  while (i > 0 && i < buf.length && ((buf[i] ?? 0) & 0xc0) === 0x80) i += dir;
  return i;
}
