// SignsOfLife's own rules, with a Slack port whose calls answer when the test says.
import { expect, test } from "bun:test";
import { type Clock, systemClock, type Timer } from "../../src/core/clock.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { ERROR_REACTION, SignsOfLife, WORKING_REACTION } from "../../src/core/sign-of-life.ts";
import { waitFor } from "../helpers/bot.ts";

/** A port whose reactions wait for release(); every call is recorded. */
function slowSlack() {
  const calls: string[] = [];
  const waiting: (() => void)[] = [];
  const call = (what: string) => {
    calls.push(what);
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
  return {
    calls,
    release: () => {
      for (const r of waiting.splice(0)) r();
    },
    port: {
      react: (a: { ts: string; name: string }) => call(`add ${a.name} ${a.ts}`),
      unreact: (a: { ts: string; name: string }) => call(`remove ${a.name} ${a.ts}`),
      setStatus: (a: { threadTs: string; status: string }) => call(`status "${a.status}" ${a.threadTs}`),
      respond: async () => {},
    },
  };
}

test("a burst: at most 4 sign calls at once; a sign whose answer came before its turn is never shown", async () => {
  const s = slowSlack();
  const signs = new SignsOfLife({ slack: s.port, log: memoryLogger(), clock: systemClock, afterMs: 0 });
  for (let i = 1; i <= 6; i++) signs.show({ eventKey: `e${i}`, channel: "D1", ts: `${i}.0` });
  await waitFor(() => s.calls.length === 4, "four calls");
  signs.answered("e6"); // answered while its sign waits
  s.release();
  await waitFor(() => s.calls.length === 5, "the fifth");
  s.release();
  await Bun.sleep(20); // nothing more may come: a short grace, not a wait for a condition
  expect(s.calls).toEqual([`add ${WORKING_REACTION} 1.0`, `add ${WORKING_REACTION} 2.0`, `add ${WORKING_REACTION} 3.0`, `add ${WORKING_REACTION} 4.0`, `add ${WORKING_REACTION} 5.0`]);
});

test("clearing a sign goes ahead of the signs still waiting, so a burst's signs do not pile up behind them", async () => {
  const s = slowSlack();
  const signs = new SignsOfLife({ slack: s.port, log: memoryLogger(), clock: systemClock, afterMs: 0 });
  for (let i = 1; i <= 12; i++) signs.show({ eventKey: `e${i}`, channel: "D1", ts: `${i}.0` });
  await waitFor(() => s.calls.length === 4, "the first four signs");
  signs.answered("e1"); // its sign is on its way: cleared once it landed
  s.release();
  await waitFor(() => s.calls.length === 8, "the next four");
  s.release();
  await waitFor(() => s.calls.length === 12, "four more calls");
  expect(s.calls.slice(8)).toEqual([`remove ${WORKING_REACTION} 1.0`, `add ${WORKING_REACTION} 9.0`, `add ${WORKING_REACTION} 10.0`, `add ${WORKING_REACTION} 11.0`]);
  s.release();
});

test("cleared after the sign's own call, never before it; an error replaces it with the warning reaction", async () => {
  const s = slowSlack();
  const signs = new SignsOfLife({ slack: s.port, log: memoryLogger(), clock: systemClock, afterMs: 0 });
  signs.show({ eventKey: "e1", channel: "C1", ts: "1.0", threadTs: "1.0" });
  await waitFor(() => s.calls.length === 1, "the status");
  signs.failed("e1");
  await Bun.sleep(10);
  expect(s.calls).toEqual([`status "is thinking…" 1.0`]);
  s.release();
  await waitFor(() => s.calls.length === 2, "cleared");
  s.release();
  await waitFor(() => s.calls.length === 3, "marked");
  expect(s.calls.slice(1)).toEqual([`status "" 1.0`, `add ${ERROR_REACTION} 1.0`]);
});

/** A clock whose timers fire when the test says. */
function manualClock() {
  const due = new Map<number, () => void>();
  let next = 1;
  const clock: Clock = {
    now: () => 0,
    mono: () => 0,
    setTimeout: (fn) => {
      const id = next++;
      due.set(id, fn);
      return id as unknown as Timer;
    },
    clearTimeout: (t) => void due.delete(t as unknown as number),
  };
  const fire = () => {
    for (const [id, fn] of [...due]) {
      due.delete(id);
      fn();
    }
  };
  return { clock, fire, pending: () => due.size };
}

test("an answer sooner than afterMs needs no sign; a failure that quick still marks the message", async () => {
  const s = slowSlack();
  const m = manualClock();
  const signs = new SignsOfLife({ slack: s.port, log: memoryLogger(), clock: m.clock, afterMs: 300 });
  signs.show({ eventKey: "quick", channel: "D1", ts: "1.0" });
  signs.answered("quick");
  signs.show({ eventKey: "broken", channel: "D1", ts: "2.0" });
  signs.failed("broken");
  expect(m.pending()).toBe(0);
  await waitFor(() => s.calls.length === 1, "the error mark");
  expect(s.calls).toEqual([`add ${ERROR_REACTION} 2.0`]);

  signs.show({ eventKey: "slow", channel: "D1", ts: "3.0" });
  expect(s.calls).toHaveLength(1); // not before it is due
  m.fire();
  await waitFor(() => s.calls.length === 2, "the sign once due");
  expect(s.calls[1]).toBe(`add ${WORKING_REACTION} 3.0`);
});
