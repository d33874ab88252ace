// Streamed messages (chat.startStream / appendStream / stopStream), recorded so a test can see
// an answer grow chunk by chunk and read the text it ended with.

/** https://docs.slack.dev/reference/methods/chat.appendStream: appends need the streaming state;
 * a user can stop a stream (`stopped_by_user`); chat.stopStream ends it. */
export type StreamState = "streaming" | "stopped" | "stopped_by_user";

export interface StreamRecord {
  channel: string;
  ts: string;
  thread_ts?: string;
  recipient_user_id?: string;
  recipient_team_id?: string;
  state: StreamState;
  /** Each markdown_text as it arrived: the start's (if any), every append, the stop's (if any). */
  chunks: string[];
  /** The message text so far; the final answer once stopped. */
  text: string;
  startedAt: number;
  stoppedAt?: number;
}

export class StreamLog {
  readonly records: StreamRecord[] = [];

  get(channel: string, ts: string): StreamRecord | undefined {
    return this.records.find((r) => r.channel === channel && r.ts === ts);
  }

  isStreaming(channel: string, ts: string): boolean {
    return this.get(channel, ts)?.state === "streaming";
  }
}
