// The newcomer's first run: `clawdbot sandbox` (compiled) answers a typed line, runs an
// approved job from the terminal, and exits 0 on /quit.
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, cleanup, ensureBinary, tempDir, waitFor } from "../helpers/bot.ts";

const dir = tempDir();
afterAll(() => cleanup(dir));

test("sandbox: chat, a card approved from the terminal, a clean exit", async () => {
  await ensureBinary();
  const proc = Bun.spawn([BINARY, "sandbox"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", CLAWDBOT_DATA_DIR: dir },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stdout) out += dec.decode(chunk, { stream: true });
  })();
  const type = (line: string) => {
    proc.stdin.write(`${line}\n`);
    proc.stdin.flush();
  };
  await waitFor(() => out.includes("Type a message"), "the prompt");
  type("hello sandbox");
  await waitFor(() => out.includes("bot: echo: hello sandbox"), "the answer");
  type("/claw exec echo from-the-sandbox");
  await waitFor(() => out.includes("[card ap_"), "the card");
  type("/approve");
  await waitFor(() => out.includes("from-the-sandbox\n```") && out.includes("Finished. Exit code 0."), "the job's result");
  type("/quit");
  proc.stdin.end();
  expect(await proc.exited).toBe(0);
});

/** The compiled sandbox with its temp files under `tmp`; returns what it printed so far and helpers. */
function sandbox(tmp: string) {
  const proc = Bun.spawn([BINARY, "sandbox"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", TMPDIR: tmp },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  const o = { out: "" };
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stdout) o.out += dec.decode(chunk, { stream: true });
  })();
  const type = (line: string) => {
    proc.stdin.write(`${line}\n`);
    proc.stdin.flush();
  };
  return { proc, o, type };
}

const leftovers = (tmp: string) => [...new Bun.Glob("clawdbot-sandbox-*").scanSync({ cwd: tmp, onlyFiles: false })];

test("sandbox: a prompt marker, Slack markup shown as Slack shows it, its temp dir removed on /quit", async () => {
  await ensureBinary();
  const tmp = tempDir();
  try {
    const { proc, o, type } = sandbox(tmp);
    await waitFor(() => o.out.endsWith("you> "), "the prompt marker");
    expect(leftovers(tmp)).toHaveLength(1);
    type("/claw pause");
    await waitFor(() => o.out.includes("Paused by @you."), "the pause notice, rendered");
    expect(o.out).toContain("bot in #CSANDBOX: ⏸ Paused by @you.");
    expect(o.out).not.toContain(":double_vertical_bar:");
    expect(o.out).not.toContain("<@USANDBOX>");
    type("/claw resume");
    await waitFor(() => o.out.includes("▶ Resumed by @you."), "the resume notice");
    type("/quit");
    proc.stdin.end();
    expect(await proc.exited).toBe(0);
    expect(leftovers(tmp)).toEqual([]);
  } finally {
    cleanup(tmp);
  }
});

test("sandbox: Ctrl+C (SIGINT) exits 0 and removes its temp dir too", async () => {
  await ensureBinary();
  const tmp = tempDir();
  try {
    const { proc, o, type } = sandbox(tmp);
    await waitFor(() => o.out.endsWith("you> "), "the prompt marker");
    type("hello");
    await waitFor(() => o.out.includes("bot: echo: hello"), "the answer");
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
    expect(leftovers(tmp)).toEqual([]);
  } finally {
    cleanup(tmp);
  }
});

test("sandbox: /file shares a file from disk; the answer shows what the agent got, a long command's file is shown", async () => {
  await ensureBinary();
  const tmp = tempDir();
  try {
    const log = join(tmp, "app.log");
    writeFileSync(log, "ERROR 42: disk full\n");
    const { proc, o, type } = sandbox(tmp);
    await waitFor(() => o.out.endsWith("you> "), "the prompt marker");
    type(`/file ${log} what is wrong?`);
    await waitFor(() => o.out.includes("bot: echo: what is wrong? [attached: app.log (20 bytes, read as text: 20 characters)]"), "the answer naming the file");
    type(`/file ${join(tmp, "missing.txt")}`);
    await waitFor(() => o.out.includes("no file"), "a missing file said so");
    type(`/claw exec ${Array.from({ length: 300 }, (_, i) => `echo line-${i}-${"x".repeat(30)}`).join("; ")}`);
    await waitFor(() => /\[file ap_[0-9a-f]+-command\.txt, \d+ bytes\]/.test(o.out), "the command file beside the card");
    type("/quit");
    proc.stdin.end();
    expect(await proc.exited).toBe(0);
  } finally {
    cleanup(tmp);
  }
});
