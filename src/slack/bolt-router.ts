// @slack/bolt as the dispatcher. Our transports (the supervised socket, the signed HTTP
// endpoint, catch-up) record and ack every payload themselves; bolt then routes what
// needs an answer to its listener (messages, mentions, /claw, approval buttons) through
// its own middleware. Bolt's receivers are not used: they reconnect and ack in ways that
// lose events (../shared/SLACK-ON-BUN.md).
import { App, type Receiver as BoltReceiver, LogLevel } from "@slack/bolt";
import type { Logger as BoltLogger } from "@slack/bolt";
import type { Logger } from "../core/logger.ts";
import type { InboundEvent } from "../core/store.ts";
import { webClientOptions } from "./web-port.ts";

export interface BoltRouterOptions {
  botToken: string;
  apiUrl: string;
  callTimeoutMs?: number;
  log: Logger;
  identity(): { botUserId?: string; botId?: string };
  /** Answers the recorded event with this key (the pipeline), as it was recorded if given. */
  answer(key: string, recorded?: InboundEvent): Promise<void>;
}

/** The properties of bolt's context that carry our inbound key (and record) to the listener. */
const KEY = "clawdbotKey";
const RECORDED = "clawdbotEvent";

class DispatchReceiver implements BoltReceiver {
  app: App | null = null;
  init(app: App): void {
    this.app = app;
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

export class BoltRouter {
  private readonly receiver = new DispatchReceiver();
  /** Keys a listener took during the dispatch under way. */
  private readonly routed = new Set<string>();
  private readonly app: App;

  constructor(private readonly o: BoltRouterOptions) {
    this.app = new App({
      receiver: this.receiver,
      // Identity comes from our own auth.test; bolt makes no calls of its own to find it.
      authorize: async () => {
        const me = o.identity();
        return { botToken: o.botToken, botUserId: me.botUserId, botId: me.botId };
      },
      clientOptions: webClientOptions(o.apiUrl, { timeoutMs: o.callTimeoutMs }),
      // No in-memory conversation store: it would grow with every conversation.
      convoStore: false,
      logger: boltLogger(o.log),
      logLevel: LogLevel.WARN,
    });
    const answer = async ({ context }: { context: Record<string, unknown> }) => {
      const key = context[KEY];
      if (typeof key !== "string") return;
      this.routed.add(key);
      await o.answer(key, context[RECORDED] as InboundEvent | undefined);
    };
    this.app.event("message", answer);
    this.app.event("app_mention", answer);
    this.app.command(/.*/, answer);
    this.app.action("approval_approve", answer);
    this.app.action("approval_deny", answer);
    this.app.error(async (err) => {
      o.log.error(`bolt listener failed: ${err.message}`);
    });
  }

  /**
   * Routes one recorded payload through bolt. Resolves, once its listener is done, to
   * whether a listener took it; never rejects. The caller answers what bolt routed nowhere.
   */
  async dispatch(body: Record<string, unknown>, key: string, recorded?: InboundEvent): Promise<boolean> {
    try {
      await this.app.processEvent({
        body,
        customProperties: { [KEY]: key, [RECORDED]: recorded },
        // Already acked by the transport, after the event was recorded.
        ack: async () => {},
      });
    } catch (err) {
      this.o.log.error(`bolt could not route ${key}: ${(err as Error).message}`);
    }
    return this.routed.delete(key);
  }
}

function boltLogger(log: Logger): BoltLogger {
  const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
  let level = LogLevel.WARN;
  return {
    debug: (...a: unknown[]) => log.debug(`bolt: ${text(a)}`),
    info: (...a: unknown[]) => log.debug(`bolt: ${text(a)}`),
    warn: (...a: unknown[]) => log.warn(`bolt: ${text(a)}`),
    error: (...a: unknown[]) => log.error(`bolt: ${text(a)}`),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
