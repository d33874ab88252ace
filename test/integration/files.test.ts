// Messages with attached files, /me messages and thread broadcasts are answered like any other,
// live and by catch-up; the agent gets the files (downloaded with the bot token), and a file
// that cannot be read is named in the answer instead of stopping it.
import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { startAnthropicStandIn } from "../stand-ins/anthropic.ts";
import { type InProcessBot, cleanup, startBot, startEmulator, tempDir, waitFor } from "../helpers/bot.ts";

const USER = "UFILES";
let emu: SlackEmulator;
let bot: InProcessBot | undefined;
let dirs: string[] = [];

interface AgentInput {
  text: string;
  files?: { name: string; mimetype: string; size: number; text?: string }[];
  context: { role: string; text: string }[];
}

/** A command agent that keeps its stdin in a file of its own and answers "answered <pid>" (distinct answers). */
const agentEnv = (dir: string) => ({ CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: `cat > '${dir}'/in-$$.json; echo answered $$` });

async function setup() {
  emu = await startEmulator();
  const dir = tempDir();
  dirs.push(dir);
  bot = await startBot(emu, agentEnv(dir), dir);
  await emu.waitFor(() => emu.openConnections() > 0 || undefined, { what: "socket" });
  const inputs = (): AgentInput[] =>
    readdirSync(dir)
      .filter((f) => /^in-\d+\.json$/.test(f))
      .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as AgentInput);
  return { dir, inputs };
}

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await emu?.stop();
  for (const d of dirs) cleanup(d);
  dirs = [];
});

const answers = (channel: string) => emu.botMessages(channel).filter((m) => m.text.includes("answered"));

describe.skipIf(process.platform === "win32")("files and message subtypes", () => {
  test("a DM with an attached text file is answered, and the agent gets the file's text", async () => {
    const { inputs } = await setup();
    const log = "ERROR 42: disk full\nat line 7\n";
    const d = emu.dm(USER, "what's wrong?", { files: [{ name: "app.log", content: log }] });
    await waitFor(() => answers(d.channel).length === 1, "the answer");
    const input = inputs()[0];
    expect(input?.text).toBe("what's wrong?");
    expect(input?.files).toEqual([{ name: "app.log", mimetype: "text/plain", size: log.length, text: log }]);
    expect(emu.fileDownloads.map((f) => f.status)).toEqual([200]);
  });

  test("a file shared without a word is answered too", async () => {
    const { inputs } = await setup();
    const d = emu.dm(USER, "", { files: [{ name: "notes.md", content: "# todo" }] });
    await waitFor(() => answers(d.channel).length === 1, "the answer");
    expect(inputs()[0]?.files?.[0]).toMatchObject({ name: "notes.md", text: "# todo" });
  });

  test("/me messages and thread broadcasts in a DM are answered live", async () => {
    const { inputs } = await setup();
    const first = emu.dm(USER, "start a thread");
    await waitFor(() => answers(first.channel).length === 1, "first answer");
    emu.dm(USER, "waves", { me: true });
    emu.dm(USER, "also to the channel", { threadTs: first.ts, broadcast: true });
    await waitFor(() => answers(first.channel).length === 3, "both answered");
    expect(inputs().map((i) => i.text).sort()).toEqual(["also to the channel", "start a thread", "waves"]);
  });

  test("an image, a PDF and a big log: named to the command agent, and the answer says what it could not read", async () => {
    const { inputs } = await setup();
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    const big = "x".repeat(150_000);
    const d = emu.dm(USER, "look", {
      files: [
        { name: "shot.png", content: png },
        { name: "spec.pdf", content: "%PDF-1.4" },
        { name: "big.log", content: big },
      ],
    });
    const answer = await waitFor(() => answers(d.channel)[0], "the answer");
    expect(inputs()[0]?.files).toEqual([
      { name: "shot.png", mimetype: "image/png", size: png.length },
      { name: "spec.pdf", mimetype: "application/pdf", size: 8 },
      { name: "big.log", mimetype: "text/plain", size: 150_000 },
    ]);
    for (const name of ["shot.png", "spec.pdf", "big.log"]) expect(answer.text).toContain(name);
    // Nothing was downloaded that could not be used: the command agent sees no images, the log is over 100 kB.
    expect(emu.fileDownloads).toHaveLength(0);
  });

  test("a file that cannot be downloaded does not stop the answer: the answer names it", async () => {
    const { inputs } = await setup();
    emu.fault("url_private", { status: 500 });
    const d = emu.dm(USER, "read this", { files: [{ name: "broken.txt", content: "hello" }, { name: "ok.png", content: "png" }] });
    const answer = await waitFor(() => answers(d.channel)[0], "the answer");
    expect(answer.text).toContain("broken.txt");
    expect(answer.text).toMatch(/couldn.t read/i);
    expect(inputs()[0]?.files?.[0]).toEqual({ name: "broken.txt", mimetype: "text/plain", size: 5 });
  });

  test("without files:read the answer says the app needs it", async () => {
    await setup();
    emu.revokeScopes("files:read");
    const d = emu.dm(USER, "read this", { files: [{ name: "a.txt", content: "hello" }] });
    const answer = await waitFor(() => answers(d.channel)[0], "the answer");
    expect(answer.text).toContain("a.txt");
    expect(answer.text).toContain("files:read");
    expect(emu.fileDownloads.map((f) => f.status)).toEqual([403]);
  });

  test("a mention with a file in a channel: the agent gets the file", async () => {
    const { inputs } = await setup();
    emu.addChannel("CFILES", { botMember: true });
    emu.mention(USER, "CFILES", "check this", { files: [{ name: "x.json", content: '{"a":1}' }] });
    await waitFor(() => answers("CFILES").length === 1, "the answer");
    expect(inputs()[0]?.files).toEqual([{ name: "x.json", mimetype: "application/json", size: 7, text: '{"a":1}' }]);
  });

  test("catch-up answers a file share missed while away, with its file", async () => {
    const { dir, inputs } = await setup();
    const first = emu.dm(USER, "hello");
    await waitFor(() => answers(first.channel).length === 1, "first answer");
    await bot?.stop();
    // While the bot is away, live delivery withheld: only catch-up can find these.
    emu.deafen(true);
    emu.dm(USER, "", { files: [{ name: "later.txt", content: "sent while away" }] });
    emu.dm(USER, "and a wave", { me: true });
    bot = await startBot(emu, agentEnv(dir), dir);
    await waitFor(() => answers(first.channel).length === 3, "both answered by catch-up");
    const got = inputs().filter((i) => i.text !== "hello");
    expect(got.map((i) => i.text).sort()).toEqual(["", "and a wave"]);
    expect(got.find((i) => i.text === "")?.files?.[0]).toMatchObject({ name: "later.txt", text: "sent while away" });
  });
});

describe("the anthropic agent sees files", () => {
  test("a text file as a text block and an image as a base64 image block", async () => {
    const api = startAnthropicStandIn();
    try {
      api.script([{ text: "I see it" }]);
      emu = await startEmulator();
      const dir = tempDir();
      dirs.push(dir);
      bot = await startBot(emu, { ANTHROPIC_API_KEY: "sk-ant-test-files", ANTHROPIC_BASE_URL: api.baseURL }, dir);
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9, 9]);
      const d = emu.dm(USER, "what is this?", { files: [{ name: "shot.png", content: png }, { name: "a.txt", content: "plain words" }] });
      await waitFor(() => emu.botMessages(d.channel).find((m) => m.text.includes("I see it")), "the answer");
      const last = api.requests[0]?.body.messages.at(-1) as { role: string; content: { type: string; text?: string; source?: { type: string; media_type: string; data: string } }[] };
      expect(last.role).toBe("user");
      const image = last.content.find((b) => b.type === "image");
      expect(image?.source).toEqual({ type: "base64", media_type: "image/png", data: Buffer.from(png).toString("base64") });
      const texts = last.content.filter((b) => b.type === "text").map((b) => b.text ?? "");
      expect(texts.some((t) => t.includes("a.txt") && t.includes("plain words"))).toBe(true);
      expect(texts.at(-1)).toBe("what is this?");
    } finally {
      api.stop();
    }
  });
});
