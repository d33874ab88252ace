// The agent for trials and tests: answers with what it was told, asks for nothing. Attached
// files are named with what the agent got of them, so a sandbox shows a file share at work.
import type { Agent, AgentFile, AgentReply, AgentRequest } from "./types.ts";

const got = (f: AgentFile) => `${f.name} (${f.size} bytes${f.text !== undefined ? `, read as text: ${f.text.length} characters` : ""})`;

export class EchoAgent implements Agent {
  readonly kind = "echo" as const;

  async answer(req: AgentRequest): Promise<AgentReply> {
    const files = req.files?.length ? ` [attached: ${req.files.map(got).join("; ")}]` : "";
    return { reply: `echo: ${req.text}${files}`, jobs: [] };
  }
}
