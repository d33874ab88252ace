// What every Web API method handler shares: arguments, errors, the per-call context.
import type { NonMember } from "../membership.ts";
import type { Refusal } from "../limits.ts";
import type { Grants, MethodScopes } from "../scopes.ts";
import type { WorkspaceState } from "../state.ts";
import type { AssistantStatuses } from "../statuses.ts";
import type { StreamLog } from "../streams.ts";
import type { EmuChannel, EmuMessage, ReactionEvent, ResolvedOptions } from "../types.ts";

export type Args = Record<string, unknown>;
export type Result = Record<string, unknown>;

/** An ok:false answer: Slack's error code and any fields that go with it. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }

  static refusal(r: Refusal): ApiError {
    return new ApiError(r.error, r.messages ? { response_metadata: { messages: r.messages } } : {});
  }
}

export const str = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
export const bool = (v: unknown): boolean => v === true || v === "true" || v === "1" || v === 1;

/** Form fields that carry JSON (the WebClient serialises objects and arrays). */
const JSON_FIELDS = new Set(["blocks", "attachments", "metadata", "files", "unfurl", "user_auth_blocks", "chunks", "loading_messages"]);

export async function parseArgs(req: Request): Promise<Args> {
  const args: Args = {};
  for (const [k, v] of new URL(req.url).searchParams) args[k] = v;
  const ct = req.headers.get("content-type") ?? "";
  if (ct.includes("application/json")) {
    const body: unknown = await req.json().catch(() => ({}));
    if (body && typeof body === "object") Object.assign(args, body);
  } else if (ct.includes("multipart/form-data")) {
    const fd = await req.formData();
    for (const [k, v] of fd) if (typeof v === "string") args[k] = v;
  } else {
    for (const [k, v] of new URLSearchParams(await req.text())) args[k] = v;
  }
  for (const k of JSON_FIELDS) {
    const v = args[k];
    if (typeof v === "string" && /^\s*[[{]/.test(v)) {
      try {
        args[k] = JSON.parse(v);
      } catch {
        // Left as a string: the method answers invalid_blocks_format / invalid_arguments.
      }
    }
  }
  return args;
}

/** What the emulator gives the Web API once. */
export interface WebApiContext {
  opts: ResolvedOptions;
  state: WorkspaceState;
  grants: Grants;
  streams: StreamLog;
  statuses: AssistantStatuses;
  reactionLog: ReactionEvent[];
  /** Base URL of the HTTP server, with trailing slash. */
  baseUrl(): string;
  /** ws:// URL a fresh connection should use. */
  socketUrl(): string;
  /** A message the bot created that Slack would echo as an event. */
  botPosted(m: EmuMessage): void;
}

/** What a handler gets for one call. */
export interface CallContext extends WebApiContext {
  method: string;
  /** The conversation named by `id`, if the bot may use it for this method (and has the scope). */
  conversation(id: unknown): EmuChannel;
}

export interface MethodSpec {
  /** From the method's docs page ("Scopes", bot token). */
  scopes: MethodScopes;
  /** How the method treats a conversation the bot is not in (see membership.ts). */
  nonMember?: NonMember;
  /** Which token may call it (default: the bot token). */
  token?: "bot" | "app" | "any";
  run(ctx: CallContext, a: Args): Result | Promise<Result>;
}

export type MethodTable = Record<string, MethodSpec>;
