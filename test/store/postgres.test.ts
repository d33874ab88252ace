// The store contract on the PostgreSQL adapter (a fresh database per test on the private
// test server, test/helpers/postgres.ts), and what is particular to it: migrations under a
// lock, a newer schema refused, errors that never show the password.
import { describe, expect, test } from "bun:test";
import { StoreError, StoreUnreachable } from "../../src/core/store.ts";
import { steps } from "../../src/store/postgres/migrations.ts";
import { openPostgresStore } from "../../src/store/postgres/index.ts";
import { freePort, freshDatabase, skipPostgres } from "../helpers/postgres.ts";
import { testStore } from "./contract.ts";

describe.skipIf(skipPostgres())("postgres", () => {
  testStore("postgres", async (opts) => ({ store: await openPostgresStore(await freshDatabase(), opts), cleanup: () => {} }));

  describe("postgres adapter", () => {
    test("instances starting at once apply each migration once", async () => {
      const url = await freshDatabase();
      const stores = await Promise.all([1, 2, 3, 4].map(() => openPostgresStore(url)));
      try {
        const sql = new Bun.SQL(url, { max: 1 });
        const versions = await sql`SELECT version FROM schema_version ORDER BY version`;
        await sql.close();
        expect(versions.map((r: { version: number }) => r.version)).toEqual(steps.map((_, i) => i + 1));
        for (const s of stores) expect(await s.schemaVersion()).toBe(steps.length);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    test("a schema newer than this build is refused, naming both versions", async () => {
      const url = await freshDatabase();
      await (await openPostgresStore(url)).close();
      const sql = new Bun.SQL(url, { max: 1 });
      await sql`INSERT INTO schema_version (version, applied_at) VALUES (99, 0)`;
      await sql.close();
      const err = await openPostgresStore(url).catch((e) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err.message).toContain("v99");
      expect(err.message).toContain(`v${steps.length}`);
    });

    test("an unreachable database is StoreUnreachable, and no error shows the password", async () => {
      const url = `postgres://clawdbot:s3cret-pass@127.0.0.1:${await freePort()}/nowhere`;
      const err = await openPostgresStore(url).catch((e) => e);
      expect(err).toBeInstanceOf(StoreUnreachable);
      expect(err.message).toContain("postgres://clawdbot@127.0.0.1");
      expect(err.message).not.toContain("s3cret-pass");
    });

    test("TLS comes from the URL: sslmode=require against a server without TLS is refused, naming sslmode", async () => {
      const url = new URL(await freshDatabase());
      url.searchParams.set("sslmode", "require");
      const err = await openPostgresStore(url.toString()).catch((e) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).not.toBeInstanceOf(StoreUnreachable); // a setting to fix, not an outage to wait out
      expect(err.message).toContain("sslmode");
    });

    test("a state dump's reader finds an empty database holds no clawdbot data", async () => {
      const err = await openPostgresStore(await freshDatabase(), { readonly: true }).catch((e) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err.message).toContain("holds no clawdbot data");
    });

    test("a read-only store refuses writes", async () => {
      const url = await freshDatabase();
      await (await openPostgresStore(url)).close();
      const ro = await openPostgresStore(url, { readonly: true });
      try {
        await expect(ro.settings.setPaused(true, 1)).rejects.toThrow(/read-only/);
        expect(await ro.settings.isPaused()).toBe(false);
      } finally {
        await ro.close();
      }
    });
  });
});
