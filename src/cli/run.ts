// `clawdbot run`: the bot, until SIGINT/SIGTERM (or Ctrl+C / Ctrl+Break on Windows).
import { defineCommand } from "citty";
import { type Config, ConfigError, configWarnings, gatherEnv, loadConfig } from "../config.ts";
import { type Runtime, startRuntime } from "../runtime.ts";
import { envFileArg } from "./_shared.ts";
import { CliExit } from "./exit.ts";

export default defineCommand({
  meta: { name: "run", description: "Run the bot: Slack connection, health server, workers, store" },
  args: {
    mode: { type: "string", description: "socket (default) or http" },
    ...envFileArg,
  },
  async run({ args }) {
    let config: Config;
    try {
      config = loadConfig(gatherEnv(process.env, args["env-file"]), { mode: args.mode });
    } catch (err) {
      if (err instanceof ConfigError) throw new CliExit(2, `clawdbot: configuration error: ${err.message}`);
      throw err;
    }
    let runtime: Runtime;
    // A stop signal while start-up waits for the database ends the wait: a graceful exit 0.
    const starting = new AbortController();
    const stopWaiting = () => starting.abort(new Error("stopped while waiting for the store"));
    for (const sig of ["SIGINT", "SIGTERM", "SIGBREAK", "SIGHUP"] as const) process.once(sig, stopWaiting);
    try {
      runtime = await startRuntime({ config, signal: starting.signal });
    } catch (err) {
      if (starting.signal.aborted) return;
      // The store or a port: nothing a restart loop can fix, so it is a configuration error.
      throw new CliExit(2, `clawdbot: cannot start: ${(err as Error).message}`);
    }
    for (const sig of ["SIGINT", "SIGTERM", "SIGBREAK", "SIGHUP"] as const) process.off(sig, stopWaiting);
    const rt = runtime;
    for (const w of configWarnings(config)) rt.log.warn(w);
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string) => {
        rt.log.info(`${sig} received`);
        // A second signal while stopping: the operator means it.
        process.once(sig as NodeJS.Signals, () => process.exit(1));
        rt.stop().then(resolve, resolve);
      };
      for (const sig of ["SIGINT", "SIGTERM", "SIGBREAK", "SIGHUP"] as const) process.once(sig, () => onSignal(sig));
    });
  },
});
