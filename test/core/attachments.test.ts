// Which attached files are read, how much of them, and what the user is told about the rest.
import { expect, test } from "bun:test";
import { FileReadError, IMAGE_MAX_BYTES, type MessageFile, messageFiles, readAttachments, unreadNote } from "../../src/core/attachments.ts";

function downloads(content: Record<string, Uint8Array | Error>) {
  const asked: { url: string; max: number }[] = [];
  return {
    asked,
    port: {
      async download(url: string, max: number) {
        asked.push({ url, max });
        const c = content[url];
        if (c instanceof Error) throw c;
        const bytes = c ?? new Uint8Array(0);
        return bytes.byteLength > max ? { bytes: bytes.slice(0, max), truncated: true } : { bytes, truncated: false };
      },
    },
  };
}
const enc = (s: string) => new TextEncoder().encode(s);
const file = (name: string, mimetype: string, size: number, url = `u:${name}`): MessageFile => ({ name, mimetype, size, url });

test("the files of a payload: url_private_download preferred, a tombstone has no url, at most 10", () => {
  const payload = JSON.stringify({
    event: {
      files: [
        { id: "F1", name: "a.txt", mimetype: "text/plain", size: 3, url_private: "p1", url_private_download: "d1" },
        { id: "F2", mode: "tombstone" },
        ...Array.from({ length: 12 }, (_, i) => ({ id: `G${i}`, name: `g${i}`, url_private: "x" })),
      ],
    },
  });
  const files = messageFiles(payload);
  expect(files).toHaveLength(10);
  expect(files[0]).toEqual({ name: "a.txt", mimetype: "text/plain", size: 3, url: "d1" });
  expect(files[1]).toEqual({ name: "F2", mimetype: "application/octet-stream", size: 0 });
  expect(messageFiles("{}")).toEqual([]);
  expect(messageFiles("not json")).toEqual([]);
});

test("images only for an agent that sees them, and never over the API's limit; others named without a download", async () => {
  const d = downloads({ "u:a.png": enc("png!"), "u:t.ts": enc("let x = 1") });
  const files = [
    file("a.png", "image/png", 4),
    file("huge.jpg", "image/jpeg", IMAGE_MAX_BYTES + 1),
    file("t.ts", "application/octet-stream", 9),
    file("z.zip", "application/zip", 100),
  ];
  const seeing = await readAttachments(files, { downloads: d.port, images: true });
  expect(seeing.files[0]?.image).toEqual({ mediaType: "image/png", base64: Buffer.from("png!").toString("base64") });
  expect(seeing.files[2]?.text).toBe("let x = 1");
  expect(seeing.unread.map((u) => u.name)).toEqual(["huge.jpg", "z.zip"]);
  expect(d.asked.map((a) => a.url)).toEqual(["u:a.png", "u:t.ts"]);

  const blind = await readAttachments(files, { downloads: d.port, images: false });
  expect(blind.files[0]).toEqual({ name: "a.png", mimetype: "image/png", size: 4 });
  expect(blind.unread.map((u) => u.name)).toEqual(["a.png", "huge.jpg", "z.zip"]);
});

test("a text file over 100 kB, one that lied about its size, binary content and a failed download: each named with why", async () => {
  const d = downloads({ "u:liar.txt": enc("y".repeat(100_001)), "u:bin.txt": new Uint8Array([104, 0, 105]), "u:gone.txt": new FileReadError("not found: it was deleted") });
  const got = await readAttachments(
    [file("big.log", "text/plain", 100_001), file("liar.txt", "text/plain", 10), file("bin.txt", "text/plain", 3), file("gone.txt", "text/plain", 3)],
    { downloads: d.port, images: false },
  );
  expect(got.files.every((f) => f.text === undefined)).toBe(true);
  expect(got.unread).toEqual([
    { name: "big.log", why: "101 kB: text files are read up to 100 kB" },
    { name: "liar.txt", why: "it is over 100 kB" },
    { name: "bin.txt", why: "it is not text" },
    { name: "gone.txt", why: "not found: it was deleted" },
  ]);
  expect(d.asked.map((a) => a.url)).toEqual(["u:liar.txt", "u:bin.txt", "u:gone.txt"]);
});

test("the note names each file in code, escaped, so a file name cannot notify or format", () => {
  expect(unreadNote([])).toBe("");
  const note = unreadNote([{ name: "<!channel> `x`.txt", why: "it is not text" }]);
  expect(note).toContain("`&lt;!channel&gt; 'x'.txt`: it is not text");
  expect(note).not.toContain("<!channel>");
});
