// The runtime's logger: redacts, prints one line per event to the console through consola,
// and appends to the store's bounded log. A log line that cannot be stored is printed anyway:
// logging never breaks the bot, and never waits for the store (the append runs on its own; its
// failure is reported once). The console is often a file (Task Scheduler, systemd, a pipe):
// colour only on a terminal, never with NO_COLOR, and every line carries its time. consola's
// own reporters decide colour by themselves (and colour every line on Windows), so ours formats.
import { type ConsolaInstance, type ConsolaReporter, createConsola, type LogObject } from "consola";
import type { Fields, Level, Logger } from "./core/logger.ts";
import type { Store } from "./core/store.ts";

const LABEL: Record<string, string> = { debug: "DEBUG", info: "INFO", warn: "WARN", error: "ERROR", critical: "CRIT" };
/** SGR codes: grey, cyan, yellow, red, bold red. */
const COLOUR: Record<string, string> = { debug: "90", info: "36", warn: "33", error: "31", critical: "1;31" };

/** Colour only on a terminal, and never with NO_COLOR set (no-color.org: present and not empty) or TERM=dumb. */
export function useColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, "");
}

/**
 * One log event, one line: ISO time (UTC), level, message, fields. Line breaks inside the
 * message are escaped so a log file keeps one line per event. `clawdbot logs` prints the
 * store's rows the same way.
 */
export function formatLogLine(at: number, level: string, msg: string, fields?: string | null, colour = false): string {
  const label = (LABEL[level] ?? level.toUpperCase()).padEnd(5);
  const shownLabel = colour && COLOUR[level] ? `\u001b[${COLOUR[level]}m${label}\u001b[0m` : label;
  const text = `${msg}${fields ? ` ${fields}` : ""}`.replace(/\r?\n/g, "\\n");
  return `${new Date(at).toISOString()} ${shownLabel} ${text}`;
}

export type ConsoleSink = (stream: "stdout" | "stderr", line: string) => void;
let sink: ConsoleSink | null = null;

/** Tests: send console lines here instead of the terminal (null restores it). */
export function captureConsole(s: ConsoleSink | null): void {
  sink = s;
}

const CONSOLA_TYPE: Record<Level, "debug" | "info" | "warn" | "error" | "fatal"> = {
  debug: "debug",
  info: "info",
  warn: "warn",
  error: "error",
  critical: "fatal",
};

/** Our one-line format for consola: each call's args are [at, level, message, fields?]. */
const lineReporter: ConsolaReporter = {
  log(o: LogObject) {
    const [at, level, msg, fields] = o.args as [number, Level, string, string | undefined];
    // Warnings and worse to stderr, the rest to stdout.
    const name = level === "debug" || level === "info" ? "stdout" : "stderr";
    if (sink) return sink(name, formatLogLine(at, level, msg, fields));
    const stream = process[name];
    stream.write(`${formatLogLine(at, level, msg, fields, useColor(stream))}\n`);
  },
};

/** The console at CLAWDBOT_CONSOLE_LEVEL's numbers (consola's): 0 errors, 1 warnings, 3 info, 4 debug. */
function consoleAt(level: number): ConsolaInstance {
  // throttle 0: every event is its own line (consola would fold repeats into one).
  return createConsola({ level, reporters: [lineReporter], throttle: 0 });
}

export interface RuntimeLoggerOptions {
  redact: (s: string) => string;
  store?: Store;
  /** Console threshold: 3 info (default), 4 debug; tests and the sandbox pass lower. */
  consoleLevel?: number;
  now?: () => number;
}

/** Fields as JSON that cannot throw (BigInt, cycles) and keeps an Error's message. */
export function fieldsText(fields: Fields): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(fields, (_k, v: unknown) => {
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Error) return { name: v.name, message: v.message };
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[circular]";
        seen.add(v);
      }
      return v;
    });
  } catch {
    return "[unserialisable fields]";
  }
}

export function createLogger(o: RuntimeLoggerOptions): Logger & { attach(store: Store): void } {
  const consoleLevel = o.consoleLevel ?? Number(process.env.CLAWDBOT_CONSOLE_LEVEL ?? 3);
  const out = consoleAt(consoleLevel);
  let store = o.store;
  let storeBroken = false;
  const now = o.now ?? Date.now;
  const print = (level: Level, at: number, text: string, extra?: string) => out[CONSOLA_TYPE[level]](at, level, text, extra);
  const write = (level: Level) => (msg: string, fields?: Fields) => {
    const at = now();
    const text = o.redact(msg);
    const extra = fields ? o.redact(fieldsText(fields)) : undefined;
    print(level, at, text, extra);
    if (!store || (level === "debug" && consoleLevel < 4)) return;
    let appended: Promise<void>;
    try {
      appended = store.logs.append(at, level, text, extra);
    } catch (err) {
      appended = Promise.reject(err);
    }
    appended.then(stored, notStored);
  };
  const stored = () => {
    storeBroken = false;
  };
  const notStored = (err: unknown) => {
    if (!storeBroken) print("error", now(), `cannot write the log store: ${(err as Error)?.message ?? String(err)}`);
    storeBroken = true;
  };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    critical: write("critical"),
    attach(s: Store) {
      store = s;
    },
  };
}
