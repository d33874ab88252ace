// The few Slack Web API calls doctor makes, straight over HTTP: what Slack answered (ok or
// its error code) and the scopes it says the token has, or SlackUnreachable naming the URL.
export interface SlackAnswer {
  ok: boolean;
  /** Slack's error code (`invalid_auth`), or `http_<status>` for an answer that is not 200. */
  error: string | null;
  body: Record<string, unknown>;
  /** The token's scopes from `x-oauth-scopes` (every Web API answer carries it); null if absent. */
  scopes: string[] | null;
  /** Seconds, from Retry-After on a rate limit. */
  retryAfter: number | null;
}

/** No Slack answer at all: refused, timed out, or something that is not the Web API. */
export class SlackUnreachable extends Error {}

export async function callSlack(
  apiUrl: string,
  method: string,
  token: string,
  args: Record<string, string>,
  timeoutMs: number,
): Promise<SlackAnswer> {
  const url = apiUrl + method;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(args),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    text = await res.text();
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    if (e.name === "TimeoutError" || e.name === "AbortError") throw new SlackUnreachable(`no answer from ${url} within ${timeoutMs / 1000} s`);
    throw new SlackUnreachable(`cannot reach ${url} (${e.code ?? e.message ?? String(err)})`);
  }
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && "ok" in parsed) body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: handled below
  }
  const retry = Number(res.headers.get("retry-after"));
  const retryAfter = Number.isFinite(retry) && res.headers.has("retry-after") ? retry : null;
  if (!body) {
    if (res.status === 429) return { ok: false, error: "ratelimited", body: {}, scopes: null, retryAfter };
    throw new SlackUnreachable(`${url} is not the Slack Web API (HTTP ${res.status}, ${res.headers.get("content-type") ?? "no content-type"})`);
  }
  const header = res.headers.get("x-oauth-scopes");
  const scopes = header === null ? null : header.split(",").map((s) => s.trim()).filter(Boolean);
  const ok = res.status === 200 && body.ok === true;
  const error = ok ? null : typeof body.error === "string" ? body.error : `http_${res.status}`;
  return { ok, error, body, scopes, retryAfter };
}
