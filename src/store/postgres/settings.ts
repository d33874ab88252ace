// Small persisted settings: the kill switch lives here, so it is the whole cluster's.
import type { SettingsRepo } from "../../core/store.ts";
import type { Sql } from "./sql.ts";

export class PgSettings implements SettingsRepo {
  constructor(private readonly sql: Sql) {}

  async get(key: string): Promise<string | undefined> {
    const [row] = await this.sql`SELECT value FROM settings WHERE key = ${key}`;
    return row?.value as string | undefined;
  }

  async set(key: string, value: string, now: number): Promise<void> {
    await this.sql`
      INSERT INTO settings (key, value, updated_at) VALUES (${key}, ${value}, ${now})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;
  }

  async isPaused(): Promise<boolean> {
    return (await this.get("paused")) === "true";
  }

  async setPaused(paused: boolean, now: number): Promise<void> {
    await this.set("paused", String(paused), now);
  }
}
