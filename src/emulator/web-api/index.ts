// The Web API: POST {apiUrl}<method>, answering like Slack: HTTP 200 with {ok:false, error} for
// platform errors (429/5xx only when a fault asks for it), the token checked, then the method's
// scopes, then its arguments. Every authenticated answer carries `x-oauth-scopes` (the token's
// scopes) and `x-accepted-oauth-scopes` (the method's), as Slack's do (@slack/web-api's WebClient
// reads them into response_metadata.scopes / acceptedScopes; slack-ruby/slack-ruby-client#378).
import type { FaultRegistry } from "../faults.ts";
import { accessError } from "../membership.ts";
import { acceptedScopes, type ByKind, MissingScope } from "../scopes.ts";
import type { ApiCall } from "../types.ts";
import { assistantMethods } from "./assistant.ts";
import { chatMethods } from "./chat.ts";
import { ApiError, type Args, type CallContext, type MethodSpec, type MethodTable, parseArgs, type Result, str, type WebApiContext } from "./common.ts";
import { conversationMethods } from "./conversations.ts";
import { fileMethods } from "./files.ts";
import { reactionMethods } from "./reactions.ts";
import { streamMethods } from "./stream.ts";

export type { WebApiContext } from "./common.ts";

export interface WebApiDeps extends WebApiContext {
  faults: FaultRegistry;
  calls: ApiCall[];
  /** Answers that never come (executeThenHang) are released here on stop. */
  hangs: Set<() => void>;
}

const metaMethods: MethodTable = {
  "auth.test": { scopes: [], token: "any", run: (ctx) => authTest(ctx) },
  "apps.connections.open": { scopes: ["connections:write"], token: "app", run: (ctx) => ({ ok: true, url: ctx.socketUrl() }) },
  "api.test": { scopes: [], token: "any", run: (_ctx, a) => ({ ok: true, args: a }) },
};

const METHODS: MethodTable = {
  ...metaMethods,
  ...chatMethods,
  ...streamMethods,
  ...conversationMethods,
  ...fileMethods,
  ...reactionMethods,
  ...assistantMethods,
};

/** Every method the emulator speaks, with its scopes (for tests and the docs). */
export const methodTable: Readonly<MethodTable> = METHODS;

function authTest(ctx: CallContext): Result {
  const o = ctx.opts;
  return {
    ok: true,
    url: "https://emulator.slack.com/",
    team: "Emulator",
    user: "clawdbot",
    team_id: o.teamId,
    user_id: o.botUserId,
    bot_id: o.botId,
    is_enterprise_install: false,
  };
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json; charset=utf-8", ...headers } });
}

export class WebApi {
  constructor(private readonly deps: WebApiDeps) {}

  async handle(req: Request, method: string): Promise<Response> {
    const args = await parseArgs(req);
    const header = req.headers.get("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : str(args.token);
    delete args.token;
    const call: ApiCall = { method, args, at: Date.now(), status: 0, response: undefined };
    this.deps.calls.push(call);
    const spec = METHODS[method];
    let headers: Record<string, string> = {};
    const answer = (body: Result, status = 200, extra: Record<string, string> = {}): Response => {
      call.status = status;
      call.response = body;
      return json(body, status, { ...headers, ...extra });
    };

    const authError = this.checkAuth(spec, token);
    if (authError) return answer({ ok: false, error: authError });
    headers = this.scopeHeaders(spec, token);

    const fault = this.deps.faults.take(method, args);
    if (fault?.latencyMs) await Bun.sleep(fault.latencyMs);
    const retryAfter: Record<string, string> = fault?.retryAfter !== undefined ? { "Retry-After": String(fault.retryAfter) } : {};
    if (fault?.status === 429) return answer({ ok: false, error: "ratelimited" }, 429, { "Retry-After": String(fault.retryAfter ?? 1) });
    if (fault?.status) return answer({ ok: false, error: "fatal_error" }, fault.status);
    if (fault?.error) return answer({ ok: false, error: fault.error, ...fault.extra }, 200, retryAfter);

    let body: Result;
    try {
      if (!spec) throw new ApiError("unknown_method");
      body = await this.run(spec, method, args);
    } catch (e) {
      if (e instanceof ApiError) body = { ok: false, error: e.code, ...e.extra };
      else if (e instanceof MissingScope) body = { ok: false, error: "missing_scope", needed: e.needed, provided: e.provided };
      else throw e;
    }
    if (fault?.executeThenHang) {
      call.response = body; // performed, but the client never hears of it
      return new Promise<Response>((resolve) => {
        this.deps.hangs.add(() => resolve(json(body, 200, headers)));
      });
    }
    if (method === "apps.connections.open" && body.ok === true) {
      const failure = this.deps.faults.takeConnectionsOpenFailure();
      if (failure === "http500") return answer({ ok: false, error: "internal_error" }, 500);
      if (failure) return answer({ ok: false, error: failure.error });
    }
    return answer(body);
  }

  private run(spec: MethodSpec, method: string, args: Args): Result | Promise<Result> {
    const grants = this.deps.grants;
    if (Array.isArray(spec.scopes) && spec.token !== "app") for (const s of spec.scopes) grants.need(s);
    const { state } = this.deps;
    const ctx: CallContext = {
      ...this.deps,
      method,
      conversation: (id) => {
        const ch = state.channels.get(str(id) ?? "");
        const err = accessError(ch, spec.nonMember ?? "channel_not_found");
        if (err || !ch) throw new ApiError(err ?? "channel_not_found");
        if (!Array.isArray(spec.scopes)) grants.need((spec.scopes as ByKind)[ch.kind]);
        return ch;
      },
    };
    return spec.run(ctx, args);
  }

  private checkAuth(spec: MethodSpec | undefined, token: string | undefined): string | undefined {
    if (!token) return "not_authed";
    if (this.deps.faults.revoked) return "invalid_auth";
    const { botToken, appToken } = this.deps.opts;
    if (token !== botToken && token !== appToken) return "invalid_auth";
    const allowed = spec?.token ?? "bot";
    if (allowed === "any") return undefined;
    return (allowed === "app") === (token === appToken) ? undefined : "not_allowed_token_type";
  }

  private scopeHeaders(spec: MethodSpec | undefined, token: string | undefined): Record<string, string> {
    const appToken = token === this.deps.opts.appToken;
    return {
      "x-oauth-scopes": appToken ? "connections:write" : this.deps.grants.header(),
      "x-accepted-oauth-scopes": spec ? acceptedScopes(spec.scopes).join(",") : "",
    };
  }
}
