// The logging seam the core writes to. The runtime's implementation prints to the
// console, appends to the store's bounded log, and redacts secrets; tests can collect lines.
export type Level = "debug" | "info" | "warn" | "error" | "critical";

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** Needs a person: revoked tokens, a store that cannot be written. */
  critical(msg: string, fields?: Fields): void;
}

export interface LogLine {
  level: Level;
  msg: string;
  fields?: Fields;
}

/** A logger that keeps lines in memory: for tests and for code that runs before the store opens. */
export function memoryLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const at = (level: Level) => (msg: string, fields?: Fields) => {
    lines.push(fields ? { level, msg, fields } : { level, msg });
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), critical: at("critical") };
}
