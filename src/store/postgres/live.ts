// Live messages: an answer's message while it grows, until its final answer is queued.
import type { LiveMessage, LiveRepo } from "../../core/store.ts";
import { first, type Sql, selectList } from "./sql.ts";
import { type Transaction, write } from "./transaction.ts";

const COLUMNS = selectList<LiveMessage>({
  eventKey: "event_key",
  channel: "channel",
  threadTs: "thread_ts",
  ts: "ts",
  mode: "mode",
  createdAt: "created_at",
});
const GET = `SELECT ${COLUMNS} FROM live_messages WHERE event_key = $1`;

export class PgLive implements LiveRepo {
  constructor(
    private readonly sql: Sql,
    private readonly tx?: Transaction,
  ) {}

  async put(m: LiveMessage): Promise<void> {
    await this.sql`
      INSERT INTO live_messages (event_key, channel, thread_ts, ts, mode, created_at)
      VALUES (${m.eventKey}, ${m.channel}, ${m.threadTs}, ${m.ts}, ${m.mode}, ${m.createdAt})
      ON CONFLICT (event_key) DO UPDATE SET channel = excluded.channel, thread_ts = excluded.thread_ts, ts = excluded.ts,
        mode = excluded.mode, created_at = excluded.created_at`;
  }

  async get(eventKey: string): Promise<LiveMessage | null> {
    return first<LiveMessage>(await this.sql.unsafe(GET, [eventKey]), ["createdAt"]);
  }

  async remove(eventKey: string): Promise<void> {
    await write(this.sql`DELETE FROM live_messages WHERE event_key = ${eventKey}`, this.tx);
  }
}
