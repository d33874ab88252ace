// @slack/web-api behind the core's SlackPort. The SDK's own retry queue is switched off:
// it pauses every method on one 429 and re-posts after timeouts (duplicates). Our outbox
// retries instead, per channel, and looks before it re-posts.
import { ErrorCode, LogLevel, WebClient, type WebClientOptions } from "@slack/web-api";
import {
  OUTBOX_EVENT_TYPE,
  SlackCallError,
  type ConversationInfo,
  type HistoryMessage,
  type SendFailure,
  type SlackPort,
  type UploadArgs,
} from "../core/slack-port.ts";

/** Errors after which only new credentials help. */
export const AUTH_ERRORS = new Set([
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "user_removed_from_team",
  "team_disabled",
  "app_uninstalled",
  "link_disabled",
]);

/** Slack errors that will not change by retrying the same call. */
const PERMANENT = new Set([
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "msg_too_long",
  "no_text",
  "invalid_blocks",
  "invalid_blocks_format",
  "too_many_attachments",
  "restricted_action",
  "restricted_action_read_only_channel",
  "restricted_action_thread_only_channel",
  "cant_update_message",
  "message_not_found",
  "edit_window_closed",
  "user_not_in_channel",
  "invalid_arguments",
  "invalid_metadata_format",
  "metadata_too_large",
  "duplicate_message_not_found",
  "expired_url",
  "used_url",
  // A missing scope or a workspace that forbids it stays so until an admin acts (then: replay).
  "missing_scope",
  "not_allowed",
  "not_allowed_token_type",
  "file_uploads_disabled",
  "file_uploads_except_images_disabled",
  "invalid_channel",
  // chat.postMessage / chat.update / chat.postEphemeral errors that retrying cannot change.
  "invalid_metadata_schema",
  "metadata_must_be_sent_from_app",
  "messages_tab_disabled",
  "restricted_action_non_threadable_channel",
  "restricted_action_thread_locked",
  "cannot_reply_to_message",
  "too_many_contact_cards",
  "team_access_not_granted",
  "access_denied",
  "no_permission",
  "ekm_access_denied",
  "enterprise_is_restricted",
  "org_login_required",
  "two_factor_setup_required",
  "accesslimited",
  "method_deprecated",
  "deprecated_endpoint",
  "invalid_arg_name",
  "invalid_array_arg",
  "invalid_charset",
  "invalid_form_data",
  "invalid_post_type",
  "missing_post_type",
  "invalid_ts_latest",
  "invalid_ts_oldest",
  "cant_delete_message",
  "user_not_found",
  "slack_connect_file_link_sharing_blocked",
  "slack_connect_canvas_sharing_blocked",
  "slack_connect_lists_sharing_blocked",
  // Too big: the same message is refused again, however often it is sent (invalid_blocks and
  // msg_too_long above). docs.slack.dev/reference/methods/chat.postMessage and chat.update errors.
  "msg_blocks_too_long",
  "attachment_payload_limit_exceeded",
  "markdown_text_conflict",
  // Refused by the workspace, the channel or the plan until someone acts (then: replay).
  // posting_to_general_channel_denied: files.upload; is_inactive ("a frozen, archived or deleted
  // channel"): chat.update; storage_limit_reached ("free teams have uploaded 5GB"):
  // files.getUploadURLExternal; upgrade_required: a paid plan's feature.
  "posting_to_general_channel_denied",
  "posting_to_channel_denied",
  "is_inactive",
  "storage_limit_reached",
  "upgrade_required",
  "app_access_restricted",
  "is_bot",
  "as_user_not_supported",
  "send_on_behalf_not_allowed",
  "team_not_found",
  "unknown_method",
  "block_mismatch",
  "cant_broadcast_message",
  "no_dual_broadcast_content_update",
  "invalid_attachments",
  "duplicate_channel_not_found",
  "missing_file_data",
  // files.getUploadURLExternal / files.completeUploadExternal: this file, here, never.
  "file_upload_size_restricted",
  "file_type_not_allowed",
  "blocked_file_type",
  "snippet_too_large",
  "alt_txt_too_large",
  "missing_argument",
  "unknown_snippet_type",
  "unknown_subtype",
  "channels_limit_exceeded",
  "max_file_sharing_exceeded",
  "file_share_limit_reached",
  "slack_connect_blocked_file_type",
  "slack_connect_clip_sharing_blocked",
  "slack_connect_file_upload_sharing_blocked",
  // chat.startStream / appendStream / stopStream, assistant.threads.setStatus, reactions.add /
  // remove (each method's docs page): this stream, status or reaction will not take, however
  // often it is tried. streaming_state_conflict (chat.update of a streaming message) is not
  // here: update() stops the stream and edits it.
  "message_not_in_streaming_state",
  "stopped_by_user",
  "message_not_owned_by_app",
  "missing_recipient_user_id",
  "missing_recipient_team_id",
  "invalid_chunks",
  "channel_type_not_supported",
  "invalid_thread_ts",
  "already_reacted",
  "no_reaction",
  "invalid_name",
  "bad_timestamp",
  "no_item_specified",
  "too_many_reactions",
  "too_many_emoji",
]);

/**
 * Both spellings mean "slow down": `ratelimited` (any method) and `rate_limited` (chat.postMessage:
 * "Application has posted too many messages"). Slack's Retry-After header says for how long;
 * the SDK hands it over as response_metadata.retryAfter, in seconds.
 */
const RATE_LIMITED = new Set(["ratelimited", "rate_limited"]);

/** Per-call deadline by default: a call with no answer by then has an unknown outcome. */
export const CALL_TIMEOUT_MS = 10_000;

export interface WebPortOptions {
  /** Per-call deadline (Web API calls and response_url posts). Default CALL_TIMEOUT_MS. */
  timeoutMs?: number;
}

export function webClientOptions(apiUrl: string, o: WebPortOptions = {}): WebClientOptions {
  // A fresh object each time: the socket-mode SDK mutates the options it is given.
  return {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: callTimeout(o),
    logLevel: LogLevel.ERROR,
    logger: quietLogger(),
  };
}

function callTimeout(o: WebPortOptions): number {
  const t = o.timeoutMs;
  return t !== undefined && Number.isFinite(t) && t > 0 ? t : CALL_TIMEOUT_MS;
}

function quietLogger() {
  const noop = () => {};
  return { debug: noop, info: noop, warn: noop, error: noop, setLevel: noop, getLevel: () => LogLevel.ERROR, setName: noop };
}

/**
 * Classifies any error from @slack/web-api or fetch. Codes not known to be permanent are
 * transient (internal_error, fatal_error, service_unavailable, request_timeout, ...): a retry
 * of a post looks for it first, so an error that posted anyway is not posted twice.
 */
export function classifySlackError(err: unknown): SendFailure {
  const e = err as {
    code?: string;
    data?: { error?: string; response_metadata?: { retryAfter?: number } };
    retryAfter?: number;
    statusCode?: number;
    message?: string;
  };
  const message = e?.data?.error ?? e?.message ?? String(err);
  switch (e?.code) {
    case ErrorCode.RateLimitedError:
      return { kind: "ratelimited", retryAfterMs: Math.max(1, e.retryAfter ?? 1) * 1000, message: "ratelimited" };
    case ErrorCode.PlatformError: {
      const code = e.data?.error ?? "unknown_error";
      if (AUTH_ERRORS.has(code)) return { kind: "revoked", message: code };
      if (RATE_LIMITED.has(code)) {
        return { kind: "ratelimited", retryAfterMs: Math.max(1, e.data?.response_metadata?.retryAfter ?? 1) * 1000, message: code };
      }
      if (PERMANENT.has(code)) return { kind: "permanent", message: code };
      return { kind: "transient", message: code };
    }
    case ErrorCode.HTTPError:
      return { kind: (e.statusCode ?? 500) >= 500 ? "transient" : "permanent", message: `HTTP ${e.statusCode}` };
    default:
      return { kind: "unknown", message };
  }
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new SlackCallError(classifySlackError(err));
  }
}

/** A call whose refusal with one of `already` means what was wanted is so already. */
async function done(p: Promise<unknown>, ...already: string[]): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof SlackCallError) || !already.includes(err.failure.message)) throw err;
  }
}

export class WebPort implements SlackPort {
  readonly client: WebClient;
  private readonly timeoutMs: number;
  private readonly apiUrl: string;
  private readonly headers: Record<string, string>;

  constructor(token: string, apiUrl: string, o: WebPortOptions = {}) {
    this.client = new WebClient(token, webClientOptions(apiUrl, o));
    this.timeoutMs = callTimeout(o);
    this.apiUrl = apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`;
    this.headers = { authorization: `Bearer ${token}`, "content-type": "application/json; charset=utf-8" };
  }

  /**
   * The calls every answer makes (chat.postMessage; reactions for a sign of life) are JSON
   * requests of their own rather than the WebClient's: its queue, retry wrapper and the debug
   * copies it makes of every request (redacted and serialised even when not logged) cost more
   * CPU than the request itself (BENCHMARKS.md, "Throughput"). Failures are classified as the
   * WebClient's would be.
   */
  private async json(method: string, body: Record<string, unknown>): Promise<{ ts?: string }> {
    let res: Response;
    try {
      res = await fetch(this.apiUrl + method, { method: "POST", headers: this.headers, body: JSON.stringify(body), redirect: "error", signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      // No answer (a timeout, a reset): the outcome is unknown, as the WebClient's request error says.
      throw new SlackCallError({ kind: "unknown", message: (err as Error).message });
    }
    const retryAfter = Number.parseInt(res.headers.get("retry-after") ?? "", 10);
    if (res.status === 429) throw new SlackCallError(classifySlackError({ code: ErrorCode.RateLimitedError, retryAfter: Number.isNaN(retryAfter) ? undefined : retryAfter }));
    if (res.status !== 200) throw new SlackCallError(classifySlackError({ code: ErrorCode.HTTPError, statusCode: res.status }));
    const text = await res.text();
    let r: { ok?: boolean; error?: string; ts?: string };
    try {
      r = JSON.parse(text);
    } catch {
      r = { ok: false, error: text };
    }
    if (r.ok !== true) {
      const data = { error: r.error ?? "unknown_error", response_metadata: { retryAfter: Number.isNaN(retryAfter) ? undefined : retryAfter } };
      throw new SlackCallError(classifySlackError({ code: ErrorCode.PlatformError, data }));
    }
    return r;
  }

  async post(a: Parameters<SlackPort["post"]>[0]): Promise<{ ts: string }> {
    const r = await this.json("chat.postMessage", {
      channel: a.channel,
      thread_ts: a.threadTs,
      text: a.text,
      blocks: a.blocks,
      unfurl_links: false,
      metadata: { event_type: OUTBOX_EVENT_TYPE, event_payload: { outbox_id: a.outboxId } },
    });
    return { ts: String(r.ts) };
  }

  async postEphemeral(a: Parameters<SlackPort["postEphemeral"]>[0]): Promise<void> {
    await call(() =>
      this.client.chat.postEphemeral({ channel: a.channel, user: a.user, thread_ts: a.threadTs, text: a.text, blocks: a.blocks as never }),
    );
  }

  async update(a: Parameters<SlackPort["update"]>[0]): Promise<void> {
    const metadata = a.outboxId === undefined ? {} : { metadata: { event_type: OUTBOX_EVENT_TYPE, event_payload: { outbox_id: a.outboxId } } };
    const edit = () => call(() => this.client.chat.update({ channel: a.channel, ts: a.ts, text: a.text, blocks: a.blocks as never, ...metadata }));
    try {
      await edit();
    } catch (err) {
      // "The message is currently streaming text and cannot be edited" (chat.update errors):
      // a streamed answer whose stream is still open (a crash, a stop that was lost) is
      // stopped, then edited; stopped meanwhile (by the user, or by Slack) is as good.
      if (!(err instanceof SlackCallError) || err.failure.message !== "streaming_state_conflict") throw err;
      await done(call(() => this.client.chat.stopStream({ channel: a.channel, ts: a.ts })), "message_not_in_streaming_state", "stopped_by_user");
      await edit();
    }
  }

  async postLive(a: Parameters<SlackPort["postLive"]>[0]): Promise<{ ts: string }> {
    const r = await call(() =>
      this.client.chat.postMessage({
        channel: a.channel,
        thread_ts: a.threadTs,
        text: a.text,
        unfurl_links: false,
        metadata: { event_type: OUTBOX_EVENT_TYPE, event_payload: { live: a.live } },
      }),
    );
    return { ts: String(r.ts) };
  }

  async startStream(a: Parameters<SlackPort["startStream"]>[0]): Promise<{ ts: string }> {
    const recipient = a.recipientUserId ? { recipient_user_id: a.recipientUserId, recipient_team_id: a.recipientTeamId } : {};
    const r = await call(() => this.client.chat.startStream({ channel: a.channel, thread_ts: a.threadTs, markdown_text: a.markdown, ...recipient }));
    return { ts: String(r.ts) };
  }

  async appendStream(a: Parameters<SlackPort["appendStream"]>[0]): Promise<void> {
    await call(() => this.client.chat.appendStream({ channel: a.channel, ts: a.ts, markdown_text: a.markdown }));
  }

  async setStatus(a: Parameters<SlackPort["setStatus"]>[0]): Promise<void> {
    await call(() => this.client.assistant.threads.setStatus({ channel_id: a.channel, thread_ts: a.threadTs, status: a.status }));
  }

  async react(a: Parameters<SlackPort["react"]>[0]): Promise<void> {
    await done(this.json("reactions.add", { channel: a.channel, timestamp: a.ts, name: a.name }), "already_reacted");
  }

  async unreact(a: Parameters<SlackPort["unreact"]>[0]): Promise<void> {
    await done(this.json("reactions.remove", { channel: a.channel, timestamp: a.ts, name: a.name }), "no_reaction");
  }

  async upload(a: UploadArgs): Promise<void> {
    // uploadV2 = files.getUploadURLExternal, the upload itself, files.completeUploadExternal.
    const file = { filename: a.filename, title: a.title ?? a.filename, content: a.content };
    const comment = a.initialComment ? { initial_comment: a.initialComment } : {};
    await call(() =>
      a.threadTs
        ? this.client.filesUploadV2({ channel_id: a.channel, thread_ts: a.threadTs, ...file, ...comment })
        : this.client.filesUploadV2({ channel_id: a.channel, ...file, ...comment }),
    );
  }

  async respond(url: string, body: Parameters<SlackPort["respond"]>[1]): Promise<void> {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new SlackCallError({ kind: "unknown", message: `response_url: ${(err as Error).message}` });
    }
    if (res.status === 404 || res.status === 410) throw new SlackCallError({ kind: "permanent", message: "expired_url" });
    if (res.status === 429) {
      const after = Number(res.headers.get("retry-after") ?? "1");
      throw new SlackCallError({ kind: "ratelimited", retryAfterMs: after * 1000, message: "ratelimited" });
    }
    if (!res.ok) throw new SlackCallError({ kind: res.status >= 500 ? "transient" : "permanent", message: `response_url HTTP ${res.status}` });
    // Slack may answer 200 with {ok:false, error}: that is a refusal, not a delivery.
    const answer = (await res.json().catch(() => null)) as { ok?: boolean; error?: string } | null;
    if (answer?.ok === false) {
      const error = answer.error ?? "unknown_error";
      const failure = classifySlackError({ code: ErrorCode.PlatformError, data: { error } });
      throw new SlackCallError(failure.kind === "transient" && /url/.test(error) ? { kind: "permanent", message: error } : failure);
    }
  }

  /** Up to `limit` messages, following Slack's cursor (pages of at most 200). */
  async history(channel: string, oldest: string, limit: number): Promise<HistoryMessage[]> {
    return this.paged(limit, (cursor, page) =>
      this.client.conversations.history({ channel, oldest, limit: page, cursor, include_all_metadata: true }),
    );
  }

  async replies(channel: string, threadTs: string, limit: number): Promise<HistoryMessage[]> {
    return this.paged(limit, (cursor, page) =>
      this.client.conversations.replies({ channel, ts: threadTs, limit: page, cursor, include_all_metadata: true }),
    );
  }

  private async paged(
    limit: number,
    fetchPage: (cursor: string | undefined, page: number) => Promise<{ messages?: unknown[]; response_metadata?: { next_cursor?: string } }>,
  ): Promise<HistoryMessage[]> {
    const out: HistoryMessage[] = [];
    let cursor: string | undefined;
    do {
      const r = await call(() => fetchPage(cursor, Math.min(200, limit - out.length)));
      out.push(...((r.messages ?? []) as HistoryMessage[]));
      cursor = r.response_metadata?.next_cursor || undefined;
    } while (cursor && out.length < limit);
    return out;
  }

  async ims(): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | undefined;
    do {
      const r = await call(() => this.client.users.conversations({ types: "im", limit: 200, cursor, exclude_archived: true }));
      for (const c of r.channels ?? []) if (c.id) out.push(c.id);
      cursor = r.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return out;
  }

  async conversationInfo(channel: string): Promise<ConversationInfo> {
    const r = await call(() => this.client.conversations.info({ channel }));
    const c = r.channel ?? {};
    const kind = c.is_im ? "im" : c.is_mpim ? "mpim" : c.is_private || c.is_group ? "private" : "public";
    // A DM shows no is_member; the bot sees only its own.
    return { kind, isMember: kind === "im" || c.is_member === true };
  }

  async openDm(user: string): Promise<string> {
    const r = await call(() => this.client.conversations.open({ users: user }));
    if (!r.channel?.id) throw new SlackCallError({ kind: "transient", message: "conversations.open returned no channel" });
    return r.channel.id;
  }

  async authTest(): Promise<{ userId: string; botId: string | undefined; teamId: string | undefined }> {
    const r = await call(() => this.client.auth.test());
    return { userId: String(r.user_id), botId: r.bot_id, teamId: r.team_id };
  }
}
