// The log store: append-only, several writers at once, bounded by CLAWDBOT_LOG_RETENTION_MB.
import { afterAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { Store } from "../../src/store/index.ts";
import { cleanup, ROOT, tempDir } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

const WRITER = `
import { Store } from "${join(ROOT, "src/store/index.ts")}";
const [path, id, n] = process.argv.slice(2);
const s = Store.open(path, { logRetentionBytes: 64 * 1024 * 1024 });
for (let i = 0; i < Number(n); i++) s.logs.append(Date.now(), "info", "writer " + id + " line " + i, JSON.stringify({ id, i }));
s.db.close();
`;

describe("log store", () => {
  test("8 processes writing at once lose and corrupt nothing", async () => {
    const path = join(dir, "concurrent.db");
    Store.open(path).close(); // migrate once, as the bot would
    const script = join(dir, "writer.ts");
    await Bun.write(script, WRITER);
    const perWriter = 400;
    const procs = Array.from({ length: 8 }, (_, id) =>
      Bun.spawn(["bun", script, path, String(id), String(perWriter)], { stdout: "ignore", stderr: "pipe" }),
    );
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes).toEqual(Array(8).fill(0));
    const s = Store.open(path);
    expect(s.db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check).toBe("ok");
    const rows = s.db.query<{ msg: string; fields: string }, []>("SELECT msg, fields FROM logs").all();
    expect(rows).toHaveLength(8 * perWriter);
    const seen = new Set(rows.map((r) => r.msg));
    expect(seen.size).toBe(8 * perWriter);
    for (const r of rows) {
      const f = JSON.parse(r.fields) as { id: string; i: number };
      expect(r.msg).toBe(`writer ${f.id} line ${f.i}`);
    }
    // The running size agrees with the rows: no lost counter update.
    const sum = s.db.query<{ b: number }, []>("SELECT sum(bytes) AS b FROM logs").get()?.b;
    expect(s.logs.usedBytes()).toBe(sum ?? -1);
    s.close();
  });

  test("stays under the retention bound after writing 3x the bound", () => {
    const path = join(dir, "bounded.db");
    const bound = 1024 * 1024;
    const s = Store.open(path, { logRetentionBytes: bound });
    const line = "x".repeat(200);
    let written = 0;
    let i = 0;
    while (written < 3 * bound) {
      const msg = `${i++} ${line}`;
      s.logs.append(Date.now(), "info", msg);
      written += msg.length;
    }
    expect(s.logs.usedBytes()).toBeLessThanOrEqual(bound);
    // The newest lines are kept, the oldest dropped.
    const tail = s.logs.tail(1)[0];
    expect(tail?.msg.startsWith(`${i - 1} `)).toBe(true);
    expect(s.logs.count()).toBeLessThan(i);
    s.close();
    // The whole file (schema, indexes, free pages included) stays under the bound too.
    expect(statSync(path).size).toBeLessThanOrEqual(bound);
  });

  test("append cost does not depend on the log's size (no scan per line)", () => {
    const s = Store.open(join(dir, "plan.db"));
    const plans = s.db
      .query<{ detail: string }, []>("EXPLAIN QUERY PLAN SELECT bytes FROM log_size WHERE id = 1")
      .all()
      .map((r) => r.detail)
      .join(" ");
    expect(plans).not.toContain("SCAN logs");
    s.close();
  });
});

describe("log store select (clawdbot logs)", () => {
  test("pages by id either way, from a time, of some levels", () => {
    const s = Store.open(join(dir, "select.db"));
    const levels = ["debug", "info", "warn", "error", "critical"];
    for (let i = 0; i < 10; i++) s.logs.append(1000 + i, levels[i % 5] as string, `line ${i}`);
    const msgs = (rows: { msg: string }[]) => rows.map((r) => r.msg);
    expect(msgs(s.logs.select({ limit: 3, newestFirst: true }))).toEqual(["line 9", "line 8", "line 7"]);
    expect(msgs(s.logs.select({ limit: 2 }))).toEqual(["line 0", "line 1"]);
    const third = s.logs.select({ limit: 3 })[2]?.id as number;
    expect(msgs(s.logs.select({ afterId: third, limit: 2 }))).toEqual(["line 3", "line 4"]);
    expect(msgs(s.logs.select({ beforeId: third, limit: 5, newestFirst: true }))).toEqual(["line 1", "line 0"]);
    expect(msgs(s.logs.select({ since: 1007, limit: 10 }))).toEqual(["line 7", "line 8", "line 9"]);
    expect(msgs(s.logs.select({ levels: ["error", "critical"], limit: 10 }))).toEqual(["line 3", "line 4", "line 8", "line 9"]);
    expect(s.logs.select({ levels: [], limit: 10 })).toEqual([]);
    s.close();
  });
});
