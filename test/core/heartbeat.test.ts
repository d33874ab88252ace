// The heartbeat in a cluster: one instance beats per interval (the lease), and an echo that
// another instance received counts, so the instance that posted does not take its socket
// for deaf.
import { expect, test } from "bun:test";
import { systemClock } from "../../src/core/clock.ts";
import { Heartbeat, type HeartbeatOptions } from "../../src/core/heartbeat.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { waitFor } from "../helpers/bot.ts";

function beat(over: Partial<HeartbeatOptions>) {
  const posts: string[] = [];
  let deaf = 0;
  const hb = new Heartbeat({
    clock: systemClock,
    log: memoryLogger(),
    canaryTimeoutMs: 20,
    connected: () => true,
    post: async (text) => {
      posts.push(text);
      return `1700000000.00000${posts.length}`;
    },
    text: async () => "beat",
    onDeaf: () => void deaf++,
    ...over,
  });
  return { hb, posts, deaf: () => deaf };
}

test("an instance that does not hold the heartbeat lease does not beat", async () => {
  const { hb, posts } = beat({ leads: async () => false });
  await hb.beat();
  expect(posts).toEqual([]);
  expect(hb.state).toBe("off");
});

test("an echo another instance received counts: the socket is not taken for deaf", async () => {
  const { hb, deaf } = beat({ leads: async () => true, echoedElsewhere: async (ts) => ts === "1700000000.000001" });
  await hb.beat();
  expect(hb.state).toBe("waiting");
  await waitFor(() => hb.state === "ok", "the canary judged");
  expect(deaf()).toBe(0);
});

test("no echo anywhere: deaf, and the socket is replaced", async () => {
  const { hb, deaf } = beat({ echoedElsewhere: async () => false });
  await hb.beat();
  await waitFor(() => deaf() === 1, "replaced");
  expect(hb.state).toBe("missed");
});
