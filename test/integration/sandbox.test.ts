// The newcomer's first run: `clawdbot sandbox` (compiled) answers a typed line, runs an
// approved job from the terminal, and exits 0 on /quit.
import { afterAll, expect, test } from "bun:test";
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
