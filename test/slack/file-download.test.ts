// The file download at the edge: bounded in size, the token only for Slack's hosts, and every
// refusal a reason a person can act on.
import { afterAll, expect, test } from "bun:test";
import { FileReadError } from "../../src/core/attachments.ts";
import { SlackFileDownloads } from "../../src/slack/file-download.ts";

let pulled = 0;
const seen: (string | null)[] = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req) {
    const path = new URL(req.url).pathname;
    seen.push(req.headers.get("authorization"));
    if (path === "/endless") {
      // A file far bigger than anything read: 64 kB chunks, forever.
      const chunk = new Uint8Array(64 * 1024).fill(120);
      return new Response(
        new ReadableStream({
          pull(c) {
            pulled++;
            c.enqueue(chunk);
          },
        }),
      );
    }
    if (path === "/small.txt") return new Response("hello");
    if (path === "/signin.txt") return new Response("<html>sign in</html>", { headers: { "content-type": "text/html" } });
    if (path === "/redirect.txt") return new Response(null, { status: 302, headers: { location: "/signin" } });
    return new Response("nope", { status: Number(path.slice(1)) || 404 });
  },
});
afterAll(() => server.stop(true));

const base = `http://127.0.0.1:${server.port}`;
const dl = new SlackFileDownloads("xoxb-test-token", `${base}/api/`);
const signal = () => AbortSignal.timeout(5000);

test("a huge file is read only up to the bound, then the download stops", async () => {
  const got = await dl.download(`${base}/endless`, 200_000, signal());
  expect(got.truncated).toBe(true);
  expect(got.bytes.byteLength).toBeLessThanOrEqual(200_000);
  // The endless stream was cut: the server got no further than what socket buffers hold.
  expect(pulled).toBeLessThan(200);
});

test("a small file whole, with the bot token", async () => {
  const got = await dl.download(`${base}/small.txt`, 100, signal());
  expect(new TextDecoder().decode(got.bytes)).toBe("hello");
  expect(got.truncated).toBe(false);
  expect(seen.at(-1)).toBe("Bearer xoxb-test-token");
});

test("refusals say why: sign-in redirect, a sign-in page, files:read, gone, server errors", async () => {
  const why = async (path: string) => {
    try {
      await dl.download(`${base}${path}`, 100, signal());
      return "downloaded";
    } catch (err) {
      expect(err).toBeInstanceOf(FileReadError);
      return (err as Error).message;
    }
  };
  expect(await why("/redirect.txt")).toContain("sign-in");
  expect(await why("/signin.txt")).toContain("token");
  expect(await why("/403")).toContain("files:read");
  expect(await why("/404")).toContain("not found");
  expect(await why("/500")).toContain("HTTP 500");
});

test("the token is never sent to a host that is not Slack's", async () => {
  const before = seen.length;
  const other = new SlackFileDownloads("xoxb-test-token", "https://slack.com/api/");
  await expect(other.download(`${base}/small.txt`, 100, signal())).rejects.toThrow("not on Slack's file server");
  await expect(other.download("http://files.slack.com/x", 100, signal())).rejects.toThrow("not on Slack's file server");
  expect(seen.length).toBe(before);
});
