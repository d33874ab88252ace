// `clawdbot replay`: delivers pending/failed outbox items and answers events that were
// received but never answered, safely beside a running bot (claims and leases decide).
import { defineCommand } from "citty";
import { buildCore } from "../assemble.ts";
import { type Base, bootstrap } from "../bootstrap.ts";
import { type Config, ConfigError, gatherEnv, loadConfig } from "../config.ts";
import { systemClock } from "../core/clock.ts";
import { describe, replay, type ReplaySummary, selectWork } from "../core/replay.ts";
import type { Store } from "../core/store.ts";
import { openStore, storeExists, storeLocation } from "../store/index.ts";
import { isPostgresUrl } from "../store/postgres/url.ts";
import { envFileArg } from "./_shared.ts";
import { dbArg, defaultDbPath, noStore } from "./_store.ts";
import { CliExit } from "./exit.ts";

export default defineCommand({
  meta: { name: "replay", description: "Deliver what was never delivered (pending/failed outbox, unanswered events)" },
  args: {
    "dry-run": { type: "boolean", description: "list what would be delivered; send nothing" },
    id: { type: "string", description: "only this outbox id or event key" },
    json: { type: "boolean", description: "print JSON" },
    ...dbArg,
    ...envFileArg,
  },
  async run({ args }) {
    // A dry run sends nothing: it needs the store, not the Slack tokens.
    if (args["dry-run"]) return dryRun(args.db || defaultDbPath(args["env-file"]), args.id, !!args.json);
    let config: Config;
    try {
      const env = gatherEnv(process.env, args["env-file"]);
      // A URL goes through the setting's checks, and its password becomes a secret to redact.
      if (args.db && isPostgresUrl(args.db)) env.CLAWDBOT_DATABASE_URL = args.db;
      config = loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) throw new CliExit(2, `clawdbot: configuration error: ${err.message}`);
      throw err;
    }
    const location = args.db && !isPostgresUrl(args.db) ? args.db : storeLocation(config);
    if (!storeExists(location)) throw noStore(location);
    let base: Base;
    try {
      // With --json, stdout is the summary alone: log only warnings and errors (to stderr).
      base = await bootstrap(config, { clock: systemClock, consoleLevel: args.json ? 1 : undefined, location });
    } catch (err) {
      throw new CliExit(2, `clawdbot: cannot open the store: ${(err as Error).message}`);
    }
    try {
      const summary = await runReplay(config, base, args.id);
      print(summary, !!args.json);
      if (summary.not_delivered.length) throw new CliExit(1, `clawdbot replay: ${summary.not_delivered.length} still not delivered`);
    } finally {
      await base.store.close();
    }
  },
});

/** Lists what replay would deliver, from a read-only handle: nothing sent, nothing written. */
async function dryRun(location: string, id: string | undefined, json: boolean): Promise<void> {
  if (!storeExists(location)) throw noStore(location);
  let store: Store | undefined;
  let items: ReplaySummary["items"];
  try {
    store = await openStore(location, { readonly: true });
    items = describe(await selectWork(store, id));
  } catch (err) {
    throw noStore(location, err instanceof Error ? err.message : String(err));
  } finally {
    await store?.close();
  }
  print({ ...emptySummary(true), items }, json);
}

async function runReplay(config: Config, base: Base, id: string | undefined): Promise<ReplaySummary> {
  const { store, log, owner, slack, relay } = base;
  const work = await selectWork(store, id);
  if (work.outbox.length === 0 && work.events.length === 0) return emptySummary(false);
  const identity: { botUserId?: string } = {};
  if (work.events.length) {
    try {
      identity.botUserId = (await slack.authTest()).userId;
    } catch (err) {
      log.warn(`replay: cannot ask Slack who the bot is (${(err as Error).message}); answering anyway`);
    }
  }
  const core = buildCore({
    config,
    store,
    clock: systemClock,
    log,
    owner,
    slack,
    relay,
    botUserId: () => identity.botUserId,
    status: async () => "clawdbot replay is delivering what was not delivered; ask again in a moment for the bot's status",
    onRevoked: (reason) => log.critical(`Slack access revoked (${reason}): fix the app's tokens, then replay again`),
    runsJobs: false,
    showsSigns: false,
    redact: base.redact,
  });
  try {
    return await replay({ store, pipeline: core.pipeline, outbox: core.outbox, clock: systemClock, deadlineMs: config.tuning.replayDeadlineMs }, work);
  } finally {
    await core.pipeline.stop(1000);
    // Replay starts no job, so nothing of approvals' is in flight: a short bound.
    await core.approvals.stop(10);
    await core.outbox.stop(1000);
    await relay?.flush(1000);
  }
}

function emptySummary(dryRun: boolean): ReplaySummary {
  return { dry_run: dryRun, items: [], delivered: 0, answered: 0, not_delivered: [] };
}

function print(s: ReplaySummary, json: boolean): void {
  if (json) return console.log(JSON.stringify(s));
  if (s.items.length === 0) return console.log("nothing to deliver");
  for (const i of s.items) {
    const err = i.last_error ? ` (${i.last_error})` : "";
    console.log(`${i.type} ${i.id} ${i.status} ${i.channel ?? "-"}${err}: ${i.text.replace(/\s+/g, " ").slice(0, 80)}`);
  }
  if (s.dry_run) return console.log(`dry run: ${s.items.length} items would be delivered; nothing sent`);
  console.log(`delivered ${s.delivered} replies, answered ${s.answered} events; ${s.not_delivered.length} still not delivered`);
}
