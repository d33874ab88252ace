// Live messages: an answer's message while it grows, until its final answer is queued.
import type { Database, Statement } from "bun:sqlite";
import type { LiveMessage } from "../../core/store.ts";
import { selectList } from "./columns.ts";

const COLUMNS = selectList<LiveMessage>({
  eventKey: "event_key",
  channel: "channel",
  threadTs: "thread_ts",
  ts: "ts",
  mode: "mode",
  createdAt: "created_at",
});

export class SqliteLive {
  private readonly putQ: Statement;
  private readonly getQ: Statement<LiveMessage, [string]>;
  private readonly removeQ: Statement;

  constructor(db: Database) {
    this.putQ = db.prepare(
      `INSERT INTO live_messages (event_key, channel, thread_ts, ts, mode, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(event_key) DO UPDATE SET channel = excluded.channel, thread_ts = excluded.thread_ts, ts = excluded.ts,
         mode = excluded.mode, created_at = excluded.created_at`,
    );
    this.getQ = db.prepare(`SELECT ${COLUMNS} FROM live_messages WHERE event_key = ?`);
    this.removeQ = db.prepare("DELETE FROM live_messages WHERE event_key = ?");
  }

  put(m: LiveMessage): void {
    this.putQ.run(m.eventKey, m.channel, m.threadTs, m.ts, m.mode, m.createdAt);
  }

  get(eventKey: string): LiveMessage | null {
    return this.getQ.get(eventKey) ?? null;
  }

  remove(eventKey: string): void {
    this.removeQ.run(eventKey);
  }
}
