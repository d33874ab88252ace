// A cluster for the integration tests: several compiled `clawdbot run` processes sharing one
// PostgreSQL database (the private test server), against one emulator, with test-speed
// presence (an instance is dead after 2 s of silence).
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HealthSnapshot } from "../../src/core/health-types.ts";
import type { SlackEmulator } from "../../src/emulator/index.ts";
import { type BotProcess, botEnv, cleanup, spawnBot, tempDir, waitFor } from "./bot.ts";

export const INSTANCE_TIMEOUT_S = 2;

export interface Instance {
  id: string;
  bot: BotProcess;
  port: number;
  dir: string;
  health(): Promise<HealthSnapshot>;
}

export class Cluster {
  readonly instances: Instance[] = [];
  private readonly dirs: string[] = [];

  constructor(
    readonly emu: SlackEmulator,
    /** The database URL the instances share. */
    readonly url: string,
    /** Settings every instance gets (agent, approvers...). */
    private readonly env: Record<string, string> = {},
  ) {}

  /** A scratch directory removed at the end (scripts, job markers). */
  dir(): string {
    const d = tempDir("clawdbot-cluster-");
    this.dirs.push(d);
    return d;
  }

  /** The environment of instance `id`: its own data dir, the shared database. */
  envFor(id: string, extra: Record<string, string> = {}): Record<string, string> {
    return botEnv(this.emu, this.dir(), {
      CLAWDBOT_DATABASE_URL: this.url,
      CLAWDBOT_INSTANCE_ID: id,
      CLAWDBOT_INSTANCE_TIMEOUT: String(INSTANCE_TIMEOUT_S),
      CLAWDBOT_PRESENCE_MS: "200",
      ...this.env,
      ...extra,
    });
  }

  /** Starts instance `id` and waits for its health port (not for its socket). */
  async start(id: string, extra: Record<string, string> = {}): Promise<Instance> {
    const env = this.envFor(id, extra);
    const bot = await spawnBot(["run"], env);
    const port = await bot.healthPort();
    const inst: Instance = {
      id,
      bot,
      port,
      dir: env.CLAWDBOT_DATA_DIR as string,
      health: async () => (await fetch(`http://127.0.0.1:${port}/health`)).json() as Promise<HealthSnapshot>,
    };
    this.instances.push(inst);
    return inst;
  }

  /** Starts these instances at once and waits until each holds a Socket Mode connection and is {@link ready}. */
  async startAll(ids: string[], extra: Record<string, string> = {}): Promise<Instance[]> {
    const before = this.emu.openConnections();
    const started = await Promise.all(ids.map((id) => this.start(id, extra)));
    await waitFor(() => this.emu.openConnections() >= before + ids.length, `${ids.length} sockets`, 20_000);
    for (const i of started) await this.ready(i);
    return started;
  }

  /**
   * Waits until the instance's start-up is behind it: its first catch-up ran (it runs once the
   * socket is up, after the start-up's look for unanswered events). Until then that look and
   * the catch-up may take up messages Slack gave another instance (answered once either way,
   * but a test that says which instance holds what must wait).
   */
  async ready(inst: Instance): Promise<void> {
    await waitFor(async () => (await inst.health()).workers.catchup?.runs, `${inst.id}'s start-up done`, 20_000);
  }

  async kill9(inst: Instance): Promise<void> {
    inst.bot.proc.kill(9);
    await inst.bot.exited;
  }

  async stop(inst: Instance): Promise<number> {
    inst.bot.proc.kill("SIGTERM");
    return inst.bot.exited;
  }

  async close(): Promise<void> {
    for (const i of this.instances) if (i.bot.proc.exitCode === null) i.bot.proc.kill(9);
    await Promise.all(this.instances.map((i) => i.bot.exited));
    for (const d of this.dirs) cleanup(d);
  }
}

/** A command agent that takes `seconds` per message (real agents are slow) and echoes the text. */
export function slowAgent(dir: string, seconds: number): Record<string, string> {
  const script = join(dir, "slow-agent.sh");
  writeFileSync(script, `#!/bin/sh\nsleep ${seconds}\necho "slow answer:"\ncat\n`);
  chmodSync(script, 0o755);
  return { CLAWDBOT_AGENT: "command", CLAWDBOT_AGENT_COMMAND: script };
}

/** Which connections the emulator handed envelopes to (first attempts). */
export function connectionsUsed(emu: SlackEmulator): Set<string> {
  return new Set(emu.envelopes.map((e) => e.attempts[0]?.via).filter((v): v is string => !!v));
}
