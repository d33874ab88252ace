// Small persisted settings: the kill switch lives here so it survives restarts.
import type { Database, Statement } from "bun:sqlite";

export class SqliteSettings {
  private readonly getQ: Statement<{ value: string }, [string]>;
  private readonly setQ: Statement;

  constructor(db: Database) {
    this.getQ = db.prepare("SELECT value FROM settings WHERE key = ?");
    this.setQ = db.prepare(
      "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    );
  }

  get(key: string): string | undefined {
    return this.getQ.get(key)?.value;
  }

  set(key: string, value: string, now: number): void {
    this.setQ.run(key, value, now);
  }

  isPaused(): boolean {
    return this.get("paused") === "true";
  }

  setPaused(paused: boolean, now: number): void {
    this.set("paused", String(paused), now);
  }
}
