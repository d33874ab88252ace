// The log store on SQLite: several processes append at once without losing or corrupting a
// line, the file stays under the retention bound, and an append never scans the log.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite/index.ts";
import { cleanup, ROOT, tempDir } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

const WRITER = `
import { openSqliteStore } from "${join(ROOT, "src/store/sqlite/index.ts")}";
const [path, id, n] = process.argv.slice(2);
const s = openSqliteStore(path, { logRetentionBytes: 64 * 1024 * 1024 });
for (let i = 0; i < Number(n); i++) await s.logs.append(Date.now(), "info", "writer " + id + " line " + i, JSON.stringify({ id, i }));
await s.close();
`;

describe("log store on SQLite", () => {
  test("8 processes writing at once lose and corrupt nothing", async () => {
    const path = join(dir, "concurrent.db");
    await openSqliteStore(path).close(); // migrate once, as the bot would
    const script = join(dir, "writer.ts");
    await Bun.write(script, WRITER);
    const perWriter = 400;
    const procs = Array.from({ length: 8 }, (_, id) =>
      Bun.spawn(["bun", script, path, String(id), String(perWriter)], { stdout: "ignore", stderr: "pipe" }),
    );
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes).toEqual(Array(8).fill(0));
    const db = new Database(path, { readonly: true });
    try {
      expect(db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check).toBe("ok");
      const rows = db.query<{ msg: string; fields: string }, []>("SELECT msg, fields FROM logs").all();
      expect(rows).toHaveLength(8 * perWriter);
      const seen = new Set(rows.map((r) => r.msg));
      expect(seen.size).toBe(8 * perWriter);
      for (const r of rows) {
        const f = JSON.parse(r.fields) as { id: string; i: number };
        expect(r.msg).toBe(`writer ${f.id} line ${f.i}`);
      }
      // The running size agrees with the rows: no lost counter update.
      const sum = db.query<{ b: number }, []>("SELECT sum(bytes) AS b FROM logs").get()?.b;
      expect(db.query<{ bytes: number }, []>("SELECT bytes FROM log_size WHERE id = 1").get()?.bytes).toBe(sum ?? -1);
    } finally {
      db.close();
    }
  });

  test("the whole file stays under the retention bound after writing 3x the bound", async () => {
    const path = join(dir, "bounded.db");
    const bound = 1024 * 1024;
    const s = openSqliteStore(path, { logRetentionBytes: bound });
    const line = "x".repeat(200);
    let written = 0;
    let i = 0;
    while (written < 3 * bound) {
      const msg = `${i++} ${line}`;
      await s.logs.append(Date.now(), "info", msg);
      written += msg.length;
    }
    expect(await s.logs.usedBytes()).toBeLessThanOrEqual(bound);
    await s.close();
    // Schema, indexes and free pages included.
    expect(statSync(path).size).toBeLessThanOrEqual(bound);
  });

  test("append cost does not depend on the log's size (no scan per line)", async () => {
    const path = join(dir, "plan.db");
    await openSqliteStore(path).close();
    const db = new Database(path, { readonly: true });
    const plans = db
      .query<{ detail: string }, []>("EXPLAIN QUERY PLAN SELECT bytes FROM log_size WHERE id = 1")
      .all()
      .map((r) => r.detail)
      .join(" ");
    db.close();
    expect(plans).not.toContain("SCAN logs");
  });
});
