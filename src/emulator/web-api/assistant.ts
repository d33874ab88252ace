// assistant.threads.setStatus: the "is thinking..." line under a thread.
// https://docs.slack.dev/reference/methods/assistant.threads.setStatus (scope chat:write since the
// 2026-03 docs update; assistant:write before).
import { ApiError, type Args, type CallContext, type MethodTable, type Result, str } from "./common.ts";

/** "The list of messages to rotate through as a loading indicator. Maximum of 10 messages." */
const MAX_LOADING_MESSAGES = 10;

function setStatus(ctx: CallContext, a: Args): Result {
  if (!str(a.channel_id)) throw new ApiError("channel_not_found");
  const ch = ctx.conversation(a.channel_id);
  const threadTs = str(a.thread_ts);
  if (!threadTs || !ctx.state.find(ch.id, threadTs)) throw new ApiError("invalid_thread_ts");
  if (typeof a.status !== "string") throw new ApiError("invalid_arguments");
  let loading: string[] | undefined;
  if (a.loading_messages !== undefined) {
    const lm = a.loading_messages;
    if (!Array.isArray(lm) || lm.length > MAX_LOADING_MESSAGES || !lm.every((x) => typeof x === "string")) {
      throw new ApiError("invalid_arguments");
    }
    loading = lm as string[];
  }
  ctx.statuses.set({ channel: ch.id, thread_ts: threadTs, status: a.status, at: Date.now(), ...(loading ? { loading_messages: loading } : {}) });
  return { ok: true };
}

export const assistantMethods: MethodTable = {
  "assistant.threads.setStatus": { scopes: ["chat:write"], nonMember: "channel_not_found", run: setStatus },
};
