import { afterEach, describe, expect, test } from "bun:test";
import { createHmac, timingSafeEqual } from "node:crypto";
import { SlackEmulator } from "../../src/emulator/index.ts";

const SECRET = "shhh-signing-secret";
let emu: SlackEmulator;
let server: ReturnType<typeof Bun.serve> | undefined;

interface Received {
  headers: Headers;
  body: string;
  valid: boolean;
}

function verify(req: Request, body: string): boolean {
  const ts = req.headers.get("x-slack-request-timestamp") ?? "";
  const sig = req.headers.get("x-slack-signature") ?? "";
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const want = `v0=${createHmac("sha256", SECRET).update(`v0:${ts}:${body}`).digest("hex")}`;
  return sig.length === want.length && timingSafeEqual(Buffer.from(sig), Buffer.from(want));
}

function bot(answer: (r: Received, n: number) => Response | Promise<Response>): { url: string; got: Received[] } {
  const got: Received[] = [];
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      const body = await req.text();
      const r = { headers: req.headers, body, valid: verify(req, body) };
      got.push(r);
      return answer(r, got.length);
    },
  });
  return { url: `http://127.0.0.1:${server.port}/slack/events`, got };
}

afterEach(async () => {
  await emu.stop();
  await server?.stop(true);
  server = undefined;
});

describe("HTTP delivery", () => {
  test("events are signed verifiably; 2xx is the ack", async () => {
    emu = new SlackEmulator({ pingIntervalMs: 0, ackTimeoutMs: 100 });
    await emu.start();
    const b = bot(() => new Response("", { status: 200 }));
    emu.useHttpDelivery(b.url, SECRET);
    const d = emu.dm("U1", "over http");
    await emu.waitFor(() => emu.envelopes[0]?.acked, { what: "ack" });
    expect(b.got).toHaveLength(1);
    expect(b.got[0]!.valid).toBe(true);
    expect(b.got[0]!.headers.get("content-type")).toContain("application/json");
    const body = JSON.parse(b.got[0]!.body);
    expect(body).toMatchObject({ type: "event_callback", event_id: d.event_id, event: { type: "message", text: "over http" } });
    expect(b.got[0]!.headers.get("x-slack-retry-num")).toBeNull();
  });

  test("non-2xx is retried with X-Slack-Retry-Num / Reason", async () => {
    emu = new SlackEmulator({ pingIntervalMs: 0, ackTimeoutMs: 50 });
    await emu.start();
    const b = bot((_r, n) => new Response("", { status: n < 3 ? 500 : 200 }));
    emu.useHttpDelivery(b.url, SECRET);
    emu.dm("U1", "retry me");
    await emu.waitFor(() => emu.envelopes[0]?.acked, { what: "ack after retries" });
    expect(b.got.map((r) => r.headers.get("x-slack-retry-num"))).toEqual([null, "1", "2"]);
    expect(b.got[1]!.headers.get("x-slack-retry-reason")).toBe("http_error");
    expect(b.got.every((r) => r.valid)).toBe(true);
  });

  test("slash commands and interactivity are form-encoded; url_verification", async () => {
    emu = new SlackEmulator({ pingIntervalMs: 0 });
    await emu.start();
    const b = bot((r) => {
      if (r.body.startsWith("{")) {
        const j = JSON.parse(r.body);
        if (j.type === "url_verification") return Response.json({ challenge: j.challenge });
      }
      if (r.body.includes("command=")) return Response.json({ text: "pong" });
      return new Response("");
    });
    emu.useHttpDelivery(b.url, SECRET);
    expect((await emu.urlVerification(b.url)).ok).toBe(true);

    emu.addChannel("CGEN");
    emu.slash("U1", "CGEN", "status");
    await emu.waitFor(() => emu.messages("CGEN").find((m) => m.text === "pong"), { what: "slash answer recorded" });
    const form = new URLSearchParams(b.got[1]!.body);
    expect(form.get("command")).toBe("/claw");
    expect(form.get("text")).toBe("status");
    expect(b.got[1]!.headers.get("content-type")).toBe("application/x-www-form-urlencoded");

    const post = await fetch(`${emu.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { Authorization: "Bearer xoxb-emulator", "Content-Type": "application/json" },
      body: JSON.stringify({ channel: "CGEN", text: "card" }),
    });
    const { ts } = (await post.json()) as { ts: string };
    emu.click("U1", "CGEN", ts, "approval_deny", "A1");
    const click = await emu.waitFor(() => b.got.find((r) => r.body.startsWith("payload=")), { what: "click" });
    const payload = JSON.parse(new URLSearchParams(click.body).get("payload")!);
    expect(payload).toMatchObject({ type: "block_actions", actions: [{ action_id: "approval_deny", value: "A1" }] });
    expect(click.valid).toBe(true);
  });
});
