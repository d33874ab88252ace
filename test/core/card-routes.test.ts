// Where a card goes, and what Slack is asked to know it (briefly cached).
import { expect, test } from "bun:test";
import { CardRouter } from "../../src/core/card-routes.ts";
import { memoryLogger } from "../../src/core/logger.ts";
import { type ConversationInfo, SlackCallError } from "../../src/core/slack-port.ts";

function router(convs: Record<string, ConversationInfo | Error>, o: { approvalChannel?: string; failDm?: string[]; selfApproval?: boolean } = {}) {
  let t = 1_000_000;
  const asked: string[] = [];
  const opened: string[] = [];
  const r = new CardRouter({
    slack: {
      conversationInfo: async (ch) => {
        asked.push(ch);
        const c = convs[ch] ?? new SlackCallError({ kind: "permanent", message: "channel_not_found" });
        if (c instanceof Error) throw c;
        return c;
      },
      openDm: async (u) => {
        opened.push(u);
        if (o.failDm?.includes(u)) throw new SlackCallError({ kind: "permanent", message: "user_not_found" });
        return `D-${u}`;
      },
    },
    approvers: ["UA1", "UA2"],
    selfApproval: o.selfApproval ?? true,
    approvalChannel: o.approvalChannel,
    clock: { now: () => t, mono: () => t, setTimeout: setTimeout as never, clearTimeout: clearTimeout as never },
    log: memoryLogger(),
  });
  const advance = (ms: number) => {
    t += ms;
  };
  return { r, asked, opened, advance };
}

test("a channel with the bot keeps its card; conversations.info is asked once a minute", async () => {
  const { r, asked, advance } = router({ C1: { kind: "public", isMember: true } });
  expect(await r.route({ channel: "C1", threadTs: "1.1" }, "UX")).toEqual({ copies: [{ channel: "C1", threadTs: "1.1" }], requester: { channel: "C1", threadTs: "1.1" }, notice: null });
  await r.route({ channel: "C1" }, "UX");
  expect(await r.canPost("C1")).toBe(true);
  expect(asked).toEqual(["C1"]);
  advance(61_000);
  await r.canPost("C1");
  expect(asked).toEqual(["C1", "C1"]);
});

test("a non-approver's DM: each approver's DM (opened once), a DM that fails is skipped; an approver's DM keeps it", async () => {
  const { r, opened } = router({ DX: { kind: "im", isMember: true } }, { failDm: ["UA2"] });
  const route = await r.route({ channel: "DX" }, "UX");
  expect(route.copies).toEqual([{ channel: "D-UA1" }]);
  expect(route.requester).toEqual({ channel: "DX" });
  expect(route.notice).toBe("I sent the card to the approvers; you will hear the result here");
  await r.route({ channel: "DX" }, "UX");
  expect(opened.filter((u) => u === "UA1")).toHaveLength(1);
  expect((await r.route({ channel: "DX" }, "UA1")).copies).toEqual([{ channel: "DX" }]);
});

test("where the bot cannot post: the approval channel, and the requester's own DM for the result", async () => {
  const { r } = router({ COPS: { kind: "public", isMember: true } }, { approvalChannel: "COPS" });
  const route = await r.route({ channel: "CNOTIN" }, "UX");
  expect(route).toEqual({ copies: [{ channel: "COPS" }], requester: { channel: "D-UX" }, notice: "an approver will see the card in <#COPS>; you will hear the result in your DM with me" });
  expect(await r.canPost("CNOTIN")).toBe(false);
});

test("Slack unsure (a transient error): assumed postable, the card stays, the outbox falls back on the error", async () => {
  const { r } = router({ C1: new SlackCallError({ kind: "transient", message: "internal_error" }) });
  expect((await r.route({ channel: "C1" }, "UX")).copies).toEqual([{ channel: "C1" }]);
  expect(await r.canPost("C1")).toBe(true);
});

test("self-approval off: an approver's own DM does not keep their card, and they get no copy of it", async () => {
  const { r } = router({ DA1: { kind: "im", isMember: true } }, { selfApproval: false });
  const route = await r.route({ channel: "DA1" }, "UA1");
  expect(route.copies).toEqual([{ channel: "D-UA2" }]);
  expect(route.requester).toEqual({ channel: "DA1" });
});
