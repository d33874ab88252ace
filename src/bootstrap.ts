// What `run` and `replay` both start from: the store, the redacting logger that writes into
// it, this process's lease name (with the leases of dead processes released), Slack's Web
// API and the relay.
import type { Config } from "./config.ts";
import { secretsOf } from "./config.ts";
import type { Clock } from "./core/clock.ts";
import { leaseOwner, releaseDeadLeases } from "./core/leases.ts";
import type { Logger } from "./core/logger.ts";
import { makeRedactor } from "./core/redact.ts";
import type { Store } from "./core/store.ts";
import { createLogger } from "./log.ts";
import { RelayClient } from "./relay/client.ts";
import { WebPort } from "./slack/web-port.ts";
import { openStore, storeLocation } from "./store/index.ts";

export interface BootstrapOptions {
  clock: Clock;
  /** consola level for the console. */
  consoleLevel?: number;
  /** Override for the logger (tests). */
  log?: Logger;
  /** How this process names itself in leases: the instance id (`run`); host:pid by default (`replay`). */
  owner?: string;
  /** A store other than the configured one (`replay --db`). */
  location?: string;
}

export interface Base {
  store: Store;
  log: Logger;
  redact(text: string): string;
  /** Names this process in the leases it takes. */
  owner: string;
  slack: WebPort;
  relay: RelayClient | null;
}

/** Opens the store and what goes with it; throws (a StoreError) if the store cannot be used. */
export async function bootstrap(config: Config, o: BootstrapOptions): Promise<Base> {
  const redact = makeRedactor(secretsOf(config));
  const runtimeLog = o.log ? null : createLogger({ redact, consoleLevel: o.consoleLevel, now: () => o.clock.now() });
  const log: Logger = o.log ?? (runtimeLog as Logger);
  const owner = o.owner ?? leaseOwner();
  const store = await openStore(o.location ?? storeLocation(config), { logRetentionBytes: config.logRetentionBytes });
  try {
    runtimeLog?.attach(store);
    const released = await releaseDeadLeases(store, owner);
    if (released) log.info(`took over ${released} items from a clawdbot process that is no longer running`);
  } catch (err) {
    await store.close();
    throw err;
  }
  const slack = new WebPort(config.slackBotToken, config.slackApiUrl, { timeoutMs: config.tuning.slackCallTimeoutMs });
  const relay = config.relayUrl ? new RelayClient({ url: config.relayUrl, log, timeoutMs: config.tuning.relayTimeoutMs }) : null;
  return { store, log, redact, owner, slack, relay };
}
