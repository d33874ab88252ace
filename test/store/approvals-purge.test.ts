// The approvals table is bounded: finished approvals older than the retention go, open ones stay.
import { afterEach, expect, test } from "bun:test";
import { Store } from "../../src/store/index.ts";
import { cleanup, tempDir } from "../helpers/bot.ts";

let dir = "";
afterEach(() => cleanup(dir));

test("purge removes old finished approvals and keeps open ones", () => {
  dir = tempDir();
  const store = Store.open(Store.pathIn(dir));
  const make = (id: string, at: number) =>
    store.approvals.create({ id, kind: "exec", text: "true", requestedBy: "U1", channel: "C1", expiresAt: at + 1000 }, at);
  make("old_done", 1000);
  store.approvals.transition("old_done", ["pending"], "denied");
  make("old_pending", 1000);
  make("old_running", 1000);
  store.approvals.transition("old_running", ["pending"], "running");
  make("new_done", 5000);
  store.approvals.transition("new_done", ["pending"], "expired");
  expect(store.approvals.purge(2000)).toBe(1);
  expect(store.approvals.get("old_done")).toBeNull();
  for (const id of ["old_pending", "old_running", "new_done"]) expect(store.approvals.get(id)).not.toBeNull();
  store.close();
});
