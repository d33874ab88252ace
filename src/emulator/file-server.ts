// Files over HTTP: the upload URL files.getUploadURLExternal hands out, and url_private /
// url_private_download. Those need `Authorization: Bearer <bot token>` and files:read
// (https://docs.slack.dev/reference/objects/file-object#access,
// https://docs.slack.dev/reference/scopes/files.read); without a token Slack answers with a
// redirect to its sign-in page, so a client that follows redirects gets HTML, not the file.
import { fileType } from "./api-json.ts";
import type { FaultRegistry } from "./faults.ts";
import type { Grants } from "./scopes.ts";
import type { WorkspaceState } from "./state.ts";
import type { ResolvedOptions } from "./types.ts";

/** The WebClient sends the upload as multipart form data; plain bodies are accepted too. */
async function uploadedBytes(req: Request): Promise<Uint8Array> {
  if ((req.headers.get("content-type") ?? "").includes("multipart/form-data")) {
    const form = await req.formData();
    for (const [, v] of form) if (typeof v !== "string") return new Uint8Array(await v.arrayBuffer());
    const first = [...form.values()][0];
    return new TextEncoder().encode(typeof first === "string" ? first : "");
  }
  return new Uint8Array(await req.arrayBuffer());
}

const SIGN_IN_PAGE = "<!DOCTYPE html><html><head><title>Sign in | Slack</title></head><body><h1>Sign in to Emulator</h1></body></html>";

export class FileServer {
  /** Every url_private fetch: the file, and the status answered. */
  readonly downloads: { file: string; status: number; at: number }[] = [];

  constructor(
    private readonly state: WorkspaceState,
    private readonly opts: ResolvedOptions,
    private readonly grants: Grants,
    private readonly faults: FaultRegistry,
  ) {}

  /** Answers the request if it is a file route, else undefined. */
  async route(req: Request, url: URL): Promise<Response | undefined> {
    const path = url.pathname;
    if (req.method === "POST" && path.startsWith("/upload/")) return this.upload(path.slice(8), req);
    if (path === "/signin") return new Response(SIGN_IN_PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
    const m = /^\/files-pri\/([^/-]+)-([^/]+)\/(download\/)?[^/]+$/.exec(path);
    if (req.method === "GET" && m) return this.download(m[2] ?? "", !!m[3], req, url);
    return undefined;
  }

  private async upload(id: string, req: Request): Promise<Response> {
    const file = this.state.files.get(id);
    if (!file) return new Response("file not found", { status: 404 });
    file.content = await uploadedBytes(req);
    return new Response(`OK - ${file.content.byteLength}`, { status: 200 });
  }

  private async download(id: string, attachment: boolean, req: Request, url: URL): Promise<Response> {
    const file = this.state.files.get(id);
    const done = (res: Response): Response => {
      this.downloads.push({ file: id, status: res.status, at: Date.now() });
      return res;
    };
    const fault = this.faults.take("url_private", { channel: file?.channel });
    if (fault?.latencyMs) await Bun.sleep(fault.latencyMs);
    if (fault?.status) return done(new Response("fault", { status: fault.status }));
    const header = req.headers.get("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (token !== this.opts.botToken || this.faults.revoked) {
      const signin = `${this.state.baseUrl}signin?redir=${encodeURIComponent(url.pathname)}`;
      return done(new Response(null, { status: 302, headers: { Location: signin } }));
    }
    const ch = file?.channel ? this.state.channels.get(file.channel) : undefined;
    if (!file || !ch?.botMember) return done(new Response("not found", { status: 404 }));
    if (!this.grants.has("files:read")) return done(new Response("forbidden", { status: 403 }));
    const headers: Record<string, string> = { "Content-Type": fileType(file.name, file.mimetype).mimetype };
    if (attachment) headers["Content-Disposition"] = `attachment; filename="${file.name}"`;
    return done(new Response(file.content, { status: 200, headers }));
  }
}
