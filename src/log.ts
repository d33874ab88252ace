// The runtime's logger: redacts, prints through consola, and appends to the store's bounded
// log. A log line that cannot be stored is printed anyway: logging never breaks the bot, and
// never waits for the store (the append runs on its own; its failure is reported once).
import { createConsola, type ConsolaInstance } from "consola";
import type { Fields, Level, Logger } from "./core/logger.ts";
import type { Store } from "./core/store.ts";

const CONSOLA_LEVEL: Record<Level, "debug" | "info" | "warn" | "error" | "fatal"> = {
  debug: "debug",
  info: "info",
  warn: "warn",
  error: "error",
  critical: "fatal",
};

export interface RuntimeLoggerOptions {
  redact: (s: string) => string;
  store?: Store;
  /** consola level: 3 info (default), 4 debug; tests and the sandbox pass lower. */
  consoleLevel?: number;
  now?: () => number;
}

export function consoleFor(level = 3): ConsolaInstance {
  return createConsola({ level, formatOptions: { date: true, colors: process.stdout.isTTY ?? false } });
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
  const out = consoleFor(o.consoleLevel ?? Number(process.env.CLAWDBOT_CONSOLE_LEVEL ?? 3));
  let store = o.store;
  let storeBroken = false;
  const now = o.now ?? Date.now;
  const write = (level: Level) => (msg: string, fields?: Fields) => {
    const text = o.redact(msg);
    const extra = fields ? o.redact(fieldsText(fields)) : undefined;
    out[CONSOLA_LEVEL[level]](extra ? `${text} ${extra}` : text);
    if (!store || (level === "debug" && (o.consoleLevel ?? 3) < 4)) return;
    let appended: Promise<void>;
    try {
      appended = store.logs.append(now(), level, text, extra);
    } catch (err) {
      appended = Promise.reject(err);
    }
    appended.then(stored, notStored);
  };
  const stored = () => {
    storeBroken = false;
  };
  const notStored = (err: unknown) => {
    if (!storeBroken) out.error(`cannot write the log store: ${(err as Error)?.message ?? String(err)}`);
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
