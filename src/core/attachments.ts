// Files attached to a message: which ones are read and how much of them, what the agent gets,
// and what the user is told about the ones it did not get. The download itself is the edge's
// (FileDownloads, src/slack/file-download.ts); nothing here holds more than a bound in memory.
import type { AgentFile } from "../agents/types.ts";
import { escapeSlack } from "./text.ts";

/** A file as a message carries it (Slack's file object, the fields used here). */
export interface MessageFile {
  name: string;
  mimetype: string;
  size: number;
  /** url_private_download, else url_private; absent for a file that is gone (tombstone). */
  url?: string;
}

/** The port: up to `maxBytes` of a file (more is `truncated`, never read); throws FileReadError. */
export interface FileDownloads {
  download(url: string, maxBytes: number, signal: AbortSignal): Promise<{ bytes: Uint8Array; truncated: boolean }>;
}

/** A download that failed, with a reason a user can act on. */
export class FileReadError extends Error {}

/** The contract: text files up to 100 kB are given as text. */
export const TEXT_MAX_BYTES = 100_000;
/**
 * The Messages API refuses an image whose base64 exceeds 5 MB (5,242,880 characters), so 3.75 MiB
 * of image; a request is at most 32 MB, so 15 MiB of images in all
 * (https://docs.claude.com/en/docs/build-with-claude/vision).
 */
export const IMAGE_MAX_BYTES = (5 * 1024 * 1024 * 3) / 4;
const IMAGES_TOTAL_BYTES = 15 * 1024 * 1024;
/** The API's image formats. */
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
/** Slack allows 10 files per message; more is not a message a person sent. */
const MAX_FILES = 10;
export const DOWNLOAD_TIMEOUT_MS = 20_000;

const TEXT_APP_TYPES = new Set([
  "application/json",
  "application/xml",
  "application/javascript",
  "application/typescript",
  "application/x-yaml",
  "application/yaml",
  "application/toml",
  "application/x-sh",
  "application/x-shellscript",
  "application/sql",
  "application/x-ndjson",
  "application/csv",
]);
const TEXT_EXTENSIONS = new Set(
  "txt log md markdown csv tsv json jsonl ndjson yaml yml toml ini cfg conf env xml html htm css js mjs cjs ts tsx jsx py rb go rs java kt c h cc cpp hpp cs php pl sh bash zsh ps1 psm1 bat cmd sql diff patch properties gradle tf hcl dockerfile makefile".split(" "),
);

export function isText(f: Pick<MessageFile, "name" | "mimetype">): boolean {
  if (f.mimetype.startsWith("text/") || TEXT_APP_TYPES.has(f.mimetype)) return true;
  const ext = /\.([a-z0-9]+)$/i.exec(f.name)?.[1]?.toLowerCase() ?? f.name.toLowerCase();
  return TEXT_EXTENSIONS.has(ext) && !f.mimetype.startsWith("image/");
}

type Obj = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

/** The files of a recorded event's payload (Slack's `event.files`); [] for anything else. */
export function messageFiles(payload: string): MessageFile[] {
  let p: Obj;
  try {
    p = JSON.parse(payload) as Obj;
  } catch {
    return [];
  }
  const files = (p.event as Obj | undefined)?.files;
  if (!Array.isArray(files)) return [];
  return files.slice(0, MAX_FILES).flatMap((f: Obj) => {
    if (!f || typeof f !== "object") return [];
    const name = str(f.name) ?? str(f.title) ?? str(f.id) ?? "file";
    // A deleted file stays on its message as a tombstone, without urls.
    const url = f.mode === "tombstone" ? undefined : (str(f.url_private_download) ?? str(f.url_private));
    const size = typeof f.size === "number" && f.size >= 0 ? f.size : 0;
    return [{ name, mimetype: str(f.mimetype) ?? "application/octet-stream", size, ...(url ? { url } : {}) }];
  });
}

/** A file the agent got only the name of, and why. */
export interface Unread {
  name: string;
  why: string;
}

export interface Attachments {
  files: AgentFile[];
  unread: Unread[];
}

export interface ReadOptions {
  downloads: FileDownloads;
  /** The agent sees images: download them (within the API's limits). */
  images: boolean;
  timeoutMs?: number;
}

const kb = (n: number) => (n >= 1_000_000 ? `${(n / 1_000_000).toFixed(1)} MB` : `${Math.ceil(n / 1000)} kB`);

/** Reads what the agent can use of each file, in parallel; never throws. */
export async function readAttachments(files: MessageFile[], o: ReadOptions): Promise<Attachments> {
  let imageBudget = IMAGES_TOTAL_BYTES;
  const read = async (f: MessageFile): Promise<{ file: AgentFile; why?: string }> => {
    const file: AgentFile = { name: f.name, mimetype: f.mimetype, size: f.size };
    const text = isText(f);
    const image = o.images && IMAGE_TYPES.has(f.mimetype);
    if (!text && !image) return { file, why: o.images ? "only text files and images are read" : "only text files are read" };
    const max = text ? TEXT_MAX_BYTES : IMAGE_MAX_BYTES;
    // Slack says how big it is: a file over the limit is not downloaded at all.
    if (f.size > max) return { file, why: `${kb(f.size)}: ${text ? "text files are read up to 100 kB" : "images are read up to 3.75 MB"}` };
    if (image && f.size > imageBudget) return { file, why: "the images of this message are over 15 MB in all" };
    if (image) imageBudget -= f.size;
    if (!f.url) return { file, why: "it is no longer available in Slack" };
    let got: { bytes: Uint8Array; truncated: boolean };
    try {
      got = await o.downloads.download(f.url, max, AbortSignal.timeout(o.timeoutMs ?? DOWNLOAD_TIMEOUT_MS));
    } catch (err) {
      return { file, why: err instanceof FileReadError ? err.message : `could not download it (${(err as Error).message})` };
    }
    if (got.truncated) return { file, why: `it is over ${text ? "100 kB" : "3.75 MB"}` };
    if (image) return { file: { ...file, image: { mediaType: f.mimetype, base64: Buffer.from(got.bytes).toString("base64") } } };
    const content = new TextDecoder().decode(got.bytes);
    if (content.includes("\u0000")) return { file, why: "it is not text" };
    return { file: { ...file, text: content } };
  };
  const results = await Promise.all(files.map(read));
  return {
    files: results.map((r) => r.file),
    unread: results.flatMap((r) => (r.why ? [{ name: r.file.name, why: r.why }] : [])),
  };
}

/** Names Slack shows as they are, in code: nothing in a file name can format or notify. */
const codeName = (name: string) => `\`${escapeSlack(name.replace(/[`\n\r]/g, "'").slice(0, 200))}\``;

/** The answer's note on files the agent did not get (mrkdwn); "" when it got them all. */
export function unreadNote(unread: Unread[]): string {
  if (unread.length === 0) return "";
  const lines = unread.map((u) => `• ${codeName(u.name)}: ${u.why}`);
  return [`_I couldn't read ${unread.length === 1 ? "this file" : "these files"}; the agent saw only the name:_`, ...lines].join("\n");
}
