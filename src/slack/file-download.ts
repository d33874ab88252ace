// Downloads a file people attached to a message: url_private with the bot token
// (https://docs.slack.dev/reference/objects/file-object#access, scope files:read). The token
// goes only to Slack's own hosts (or the configured API's, for GovSlack and the emulator), and
// at most `maxBytes` are read: a huge file is never held in memory.
import { type FileDownloads, FileReadError } from "../core/attachments.ts";

/** Where Slack serves files: files.slack.com and the like. */
const SLACK_FILE_HOSTS = [/(^|\.)slack\.com$/, /(^|\.)slack-gov\.com$/, /(^|\.)slack-edge\.com$/];

export class SlackFileDownloads implements FileDownloads {
  private readonly apiHost: string;

  constructor(
    private readonly token: string,
    apiUrl: string,
  ) {
    this.apiHost = new URL(apiUrl).host;
  }

  private trusted(u: URL): boolean {
    if (u.host === this.apiHost) return true;
    return u.protocol === "https:" && SLACK_FILE_HOSTS.some((re) => re.test(u.hostname));
  }

  async download(url: string, maxBytes: number, signal: AbortSignal): Promise<{ bytes: Uint8Array; truncated: boolean }> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new FileReadError("its address is not a URL");
    }
    if (!this.trusted(u)) throw new FileReadError(`it is not on Slack's file server (${u.host}); the bot's token is not sent there`);
    let res: Response;
    try {
      // Redirects are not followed: without a valid token Slack redirects to its sign-in page.
      res = await fetch(u, { headers: { Authorization: `Bearer ${this.token}` }, redirect: "manual", signal });
    } catch (err) {
      if (signal.aborted) throw new FileReadError("the download timed out");
      throw new FileReadError(`cannot reach Slack's file server (${(err as Error).message})`);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new FileReadError("Slack did not accept the bot's token for it (it answered with its sign-in page)");
    }
    if (res.status === 403) {
      await res.body?.cancel();
      throw new FileReadError("access denied: the Slack app needs the files:read scope");
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new FileReadError("not found: it was deleted, or shared where clawdbot is not a member");
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new FileReadError(`Slack's file server answered HTTP ${res.status}`);
    }
    // Slack can answer 200 with its sign-in page too (an HTML page where a file was asked for).
    if ((res.headers.get("content-type") ?? "").startsWith("text/html") && !/\.html?$/i.test(u.pathname)) {
      await res.body?.cancel();
      throw new FileReadError("Slack did not accept the bot's token for it (it answered with a web page)");
    }
    return readAtMost(res, maxBytes, signal);
  }
}

/** The body up to `maxBytes`; reading stops (and the rest is never fetched) beyond it. */
async function readAtMost(res: Response, maxBytes: number, signal: AbortSignal): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const reader = res.body?.getReader();
  if (!reader) return { bytes: new Uint8Array(0), truncated: false };
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.byteLength > maxBytes) {
        await reader.cancel();
        return { bytes: concat(chunks, total), truncated: true };
      }
      chunks.push(value);
      total += value.byteLength;
    }
  } catch (err) {
    if (signal.aborted) throw new FileReadError("the download timed out");
    throw new FileReadError(`the download broke off (${(err as Error).message})`);
  }
  return { bytes: concat(chunks, total), truncated: false };
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
