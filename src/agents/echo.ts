// The agent for trials and tests: answers with what it was told, asks for nothing.
import type { Agent, AgentReply, AgentRequest } from "./types.ts";

export class EchoAgent implements Agent {
  readonly kind = "echo" as const;

  async answer(req: AgentRequest): Promise<AgentReply> {
    return { reply: `echo: ${req.text}`, jobs: [] };
  }
}
