// The private PostgreSQL server the cluster tests use: it starts, gives fresh databases, and
// Bun's built-in client talks to it.
import { describe, expect, test } from "bun:test";
import { freshDatabase, skipPostgres } from "../helpers/postgres.ts";

describe.skipIf(skipPostgres())("test PostgreSQL server", () => {
  test("each fresh database is empty and separate", async () => {
    const a = new Bun.SQL(await freshDatabase());
    const b = new Bun.SQL(await freshDatabase());
    try {
      await a`CREATE TABLE only_in_a (x int)`;
      const [row] = await b`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'only_in_a'`;
      expect(row.n).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
