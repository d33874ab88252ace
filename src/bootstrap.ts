// What `run` and `replay` both start from: the store, the redacting logger that writes into
// it, this process's lease name (with the leases of dead processes released), Slack's Web
// API and the relay.
import type { Config } from "./config.ts";
import { secretsOf } from "./config.ts";
import type { Clock } from "./core/clock.ts";
import { leaseOwner, releaseDeadLeases } from "./core/leases.ts";
import type { Logger } from "./core/logger.ts";
import { makeRedactor } from "./core/redact.ts";
import { type Store, StoreUnreachable } from "./core/store.ts";
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
  /**
   * `run`: a database that cannot be reached is waited for (health says store_unavailable
   * meanwhile) rather than a reason to exit; `signal` gives up waiting (a stop signal).
   */
  waitForStore?: { signal?: AbortSignal; onWaiting(reason: string): void; healthUrl: string };
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

/** The longest wait between two tries to reach the database at start-up. */
const MAX_WAIT_MS = 30_000;

/** Opens the store; with `waitForStore`, tries again (1 s, doubling to 30 s) while it cannot be reached. */
async function openWhenReachable(config: Config, o: BootstrapOptions, log: Logger): Promise<Store> {
  const location = o.location ?? storeLocation(config);
  // SQLite: checkpoints off the event loop that acks envelopes (store/sqlite/checkpoints.ts).
  const opts = { logRetentionBytes: config.logRetentionBytes, busyTimeoutMs: config.tuning.storeBusyMs, backgroundCheckpoints: true };
  for (let wait = 1000; ; wait = Math.min(wait * 2, MAX_WAIT_MS)) {
    try {
      return await openStore(location, opts);
    } catch (err) {
      const w = o.waitForStore;
      if (!w || !(err instanceof StoreUnreachable)) throw err;
      w.onWaiting(err.message);
      log.warn(`${err.message}; trying again in ${wait / 1000} s; health on ${w.healthUrl} says store_unavailable meanwhile`);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, wait);
        w.signal?.addEventListener("abort", () => {
          clearTimeout(t);
          reject(w.signal?.reason ?? new Error("stopped"));
        });
      });
    }
  }
}

/** Opens the store and what goes with it; throws (a StoreError) if the store cannot be used. */
export async function bootstrap(config: Config, o: BootstrapOptions): Promise<Base> {
  const redact = makeRedactor(secretsOf(config));
  const runtimeLog = o.log ? null : createLogger({ redact, consoleLevel: o.consoleLevel, now: () => o.clock.now() });
  const log: Logger = o.log ?? (runtimeLog as Logger);
  const owner = o.owner ?? leaseOwner();
  const store = await openWhenReachable(config, o, log);
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
