// Small persisted settings: the kill switch lives here, so it is the whole cluster's.
import type { SettingsRepo } from "../../core/store.ts";
import type { Sql } from "./sql.ts";

/**
 * The kill switch is read several times per message (at record, before the sign, before the
 * agent): a read asked while another is on its way shares that one's answer instead of being
 * a statement of its own. So an answer is at most one read old: that read was sent before the
 * caller asked, but the server answers it when it runs it, which is after the caller asked
 * unless the answer was already on its way back. A change of the settings through this store
 * is never missed: from then on no read joins one sent before it (forget()).
 */
export class SharedRead {
  private inflight: Promise<boolean> | null = null;

  share(read: () => Promise<boolean>): Promise<boolean> {
    if (this.inflight) return this.inflight;
    const p = read().finally(() => {
      if (this.inflight === p) this.inflight = null;
    });
    this.inflight = p;
    return p;
  }

  forget(): void {
    this.inflight = null;
  }
}

export class PgSettings implements SettingsRepo {
  /**
   * `paused`: the kill switch reads this handle shares; `wrote` hears that this handle
   * changed a setting (once the write is done; a transaction's write counts once it commits).
   */
  constructor(
    private readonly sql: Sql,
    private readonly paused = new SharedRead(),
    private readonly wrote = () => paused.forget(),
  ) {}

  async get(key: string): Promise<string | undefined> {
    const [row] = await this.sql.unsafe("SELECT value FROM settings WHERE key = $1", [key]);
    return row?.value as string | undefined;
  }

  async set(key: string, value: string, now: number): Promise<void> {
    try {
      await this.sql`
        INSERT INTO settings (key, value, updated_at) VALUES (${key}, ${value}, ${now})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;
    } finally {
      // Also when it failed: whether it landed is not known.
      this.paused.forget();
      this.wrote();
    }
  }

  isPaused(): Promise<boolean> {
    return this.paused.share(async () => (await this.get("paused")) === "true");
  }

  async setPaused(paused: boolean, now: number): Promise<void> {
    await this.set("paused", String(paused), now);
  }
}
