// response_url of slash commands and clicks: works wherever the command was used, bot member or
// not (https://docs.slack.dev/interactivity/handling-user-interaction#message_responses), and
// records every post so a test can see what the user got.
import type { FaultRegistry } from "./faults.ts";
import { checkBlocks, MAX_TEXT } from "./limits.ts";
import type { WorkspaceState } from "./state.ts";
import type { ApiCall, EmuMessage, ResponsePost } from "./types.ts";

/** Where a response_url post lands. */
export interface ResponseTarget {
  channel: string;
  user: string;
  /** For interactivity: the message the click came from (replace_original/delete_original). */
  messageTs?: string;
}

function reply(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

export class ResponseUrls {
  readonly posts: ResponsePost[] = [];
  private readonly targets = new Map<string, ResponseTarget>();

  constructor(
    private readonly state: WorkspaceState,
    private readonly faults: FaultRegistry,
    private readonly echo: (m: EmuMessage) => void,
    /** Posts are also listed among the Web API calls, as method "response_url". */
    private readonly calls: ApiCall[],
  ) {}

  newUrl(baseUrl: string, target: ResponseTarget): string {
    const id = crypto.randomUUID();
    this.targets.set(id, target);
    return `${baseUrl}response/${id}`;
  }

  async handle(id: string, req: Request): Promise<Response> {
    const target = this.targets.get(id);
    let body: Record<string, unknown> = {};
    try {
      const ct = req.headers.get("content-type") ?? "";
      if (ct.includes("application/x-www-form-urlencoded")) {
        body = JSON.parse(new URLSearchParams(await req.text()).get("payload") ?? "{}") as Record<string, unknown>;
      } else body = (await req.json()) as Record<string, unknown>;
    } catch {
      return reply({ ok: false, error: "invalid_payload" }, 400);
    }
    const post: ResponsePost = { channel: target?.channel ?? "", user: target?.user ?? "", body, status: 0, at: Date.now() };
    this.posts.push(post);
    const call: ApiCall = { method: "response_url", args: body, at: post.at, status: 0, response: undefined };
    this.calls.push(call);
    const done = (status: number, error?: string, ts?: string): Response => {
      const answer = error ? { ok: false, error } : { ok: true };
      post.status = call.status = status;
      call.response = answer;
      if (error) post.error = error;
      if (ts) post.ts = ts;
      return reply(answer, status);
    };
    const fault = this.faults.take("response_url", { channel: post.channel });
    if (fault?.latencyMs) await Bun.sleep(fault.latencyMs);
    if (fault?.status) return done(fault.status, fault.status === 404 ? "expired_url" : "internal_error");
    if (fault?.error) return done(200, fault.error);
    if (!target) return done(404, "expired_url");
    const r = this.apply(target, body);
    return done(r.error ? 400 : 200, r.error, r.ts);
  }

  /** What Slack does with a response_url post (or a slash command's ack/HTTP answer). */
  apply(target: ResponseTarget, body: Record<string, unknown>): { error?: string; ts?: string } {
    const o = this.state.identity;
    const text = typeof body.text === "string" ? body.text : "";
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
    if (text.length > MAX_TEXT) return { error: "msg_too_long" };
    const refusal = checkBlocks(body.blocks);
    if (refusal) return { error: refusal.error };
    if (target.messageTs && body.delete_original === true) {
      this.state.remove(target.channel, target.messageTs);
      return {};
    }
    if (target.messageTs && body.replace_original === true) {
      const m = this.state.find(target.channel, target.messageTs);
      if (!m) return { error: "message_not_found" };
      m.text = text;
      if (blocks) m.blocks = blocks;
      else delete m.blocks;
      this.state.notify(m, "updated");
      return { ts: m.ts };
    }
    if (!text && !blocks) return { error: "no_text" };
    const m: EmuMessage = { channel: target.channel, ts: this.state.clock.next(), user: o.botUserId, bot_id: o.botId, text };
    if (blocks) m.blocks = blocks;
    if (typeof body.thread_ts === "string") m.thread_ts = body.thread_ts;
    if (body.response_type !== "in_channel") m.ephemeral = { user: target.user };
    this.state.store(m);
    if (!m.ephemeral) this.echo(m);
    return { ts: m.ts };
  }
}
