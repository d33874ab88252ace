// The PostgreSQL adapter's write transactions (src/store/postgres/transaction.ts): BEGIN goes
// out with the body's first statements and writes nobody waits on go out unanswered, and none
// of that loosens all-or-nothing: a failed write fails its transaction with its own error,
// however late it is noticed, and a body that swallows a failed statement is not committed.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { NewApproval, NewEvent, NewOutbox, Store } from "../../src/core/store.ts";
import { openPostgresStore } from "../../src/store/postgres/index.ts";
import { freshDatabase, skipPostgres } from "../helpers/postgres.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const ev = (key: string): NewEvent => ({ key, kind: "dm", channel: "D1", ts: "1.1", user: "U1", text: "hi", payload: "{}" });
const approval = (id: string): NewApproval => ({ id, kind: "exec", text: "echo hi", requestedBy: "U1", channel: "C1", expiresAt: T0 + 60_000 });
/** Beyond BIGINT: the server refuses the statement. */
const TOO_LATE = 2 ** 70;

describe.skipIf(skipPostgres())("postgres transactions", () => {
  let store: Store;

  beforeEach(async () => {
    store = await openPostgresStore(await freshDatabase());
    await store.events.record(ev("ev:old"), T0);
  });

  afterEach(async () => {
    await store.close();
  });

  test("a status write nobody waited on that fails fails its transaction with its own error, and nothing of it lands", async () => {
    const err = await store
      .tx(async (t) => {
        await t.events.setStatus("ev:old", "answered", TOO_LATE);
        await t.events.record(ev("ev:new"), T0);
      })
      .catch((e) => e);
    expect(String(err)).toContain("bigint out of range");
    expect(await store.events.get("ev:new")).toBeNull();
    expect((await store.events.get("ev:old"))?.status).toBe("received");
  });

  test("the same when it is the body's last statement: noticed at commit", async () => {
    const id = await store.outbox.enqueue({ op: "post", channel: "C1", text: "reply" }, T0);
    const err = await store
      .tx(async (t) => {
        await t.events.record(ev("ev:new"), T0);
        await t.outbox.markSent(id, "1.2", TOO_LATE);
      })
      .catch((e) => e);
    expect(String(err)).toContain("bigint out of range");
    expect(await store.events.get("ev:new")).toBeNull();
    expect((await store.outbox.get(id))?.status).toBe("pending");
  });

  test("a body that catches a failed statement and goes on is rolled back, not reported committed", async () => {
    await store.approvals.create(approval("ap:taken"), T0);
    const err = await store
      .tx(async (t) => {
        await t.events.record(ev("ev:new"), T0);
        await t.approvals.create(approval("ap:taken"), T0).catch(() => {});
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(await store.events.get("ev:new")).toBeNull();
  });

  test("writes sent without waiting are seen by the body's later reads, and land with the commit", async () => {
    const status = await store.tx(async (t) => {
      await t.events.setStatus("ev:old", "answered", T0 + 1, "done");
      return (await t.events.get("ev:old"))?.status;
    });
    expect(status).toBe("answered");
    expect((await store.events.get("ev:old"))?.detail).toBe("done");
  });

  test("an item queued and claimed in one transaction comes back as a claim after the commit would give it, and the claim lands with the commit", async () => {
    const item: NewOutbox = {
      eventKey: "ev:old",
      op: "upload",
      channel: "C1",
      threadTs: "1.1",
      user: "U1",
      text: "a comment",
      blocks: [{ type: "section" }],
      fingerprint: "fp",
      content: "the file",
      fileName: "out.txt",
      fileTitle: "Output",
    };
    const [inTx, laterId] = await store.tx(async (t) => {
      const id = await t.outbox.enqueue(item, T0);
      return [await t.outbox.claim(id, "me", T0 + 1, T0 + 1000), await t.outbox.enqueue(item, T0)] as const;
    });
    const afterCommit = await store.outbox.claim(laterId, "me", T0 + 1, T0 + 1000);
    expect(inTx).toEqual({ ...afterCommit, id: inTx?.id } as typeof inTx);
    const stored = await store.outbox.get(inTx?.id ?? -1);
    expect(stored).toMatchObject({ status: "sending", attempts: 1, leaseUntil: T0 + 1000, content: "the file" });
    // Claimed already: a second claim in the lease loses.
    expect(await store.outbox.claim(inTx?.id ?? -1, "other", T0 + 2, T0 + 2000)).toBeNull();
  });

  test("an item queued in a transaction and changed before its claim is claimed by asking the server", async () => {
    const got = await store.tx(async (t) => {
      const id = await t.outbox.enqueue({ op: "post", channel: "C1", text: "reply" }, T0);
      await t.outbox.markFailed(id, "gave up", T0);
      return t.outbox.claim(id, "me", T0 + 1, T0 + 1000);
    });
    expect(got).toBeNull();
  });
});
