// Assistant thread statuses (assistant.threads.setStatus): every call recorded, and the status a
// user would see now.

/** https://docs.slack.dev/reference/methods/assistant.threads.setStatus: "A two minute timeout
 * applies, which will cause the status to be removed if no message has been sent." */
export const STATUS_TIMEOUT_MS = 120_000;

export interface StatusRecord {
  channel: string;
  thread_ts: string;
  /** "" clears it. */
  status: string;
  loading_messages?: string[];
  at: number;
}

export class AssistantStatuses {
  readonly log: StatusRecord[] = [];
  private readonly shown = new Map<string, StatusRecord>();

  set(rec: StatusRecord): void {
    this.log.push(rec);
    const key = `${rec.channel}/${rec.thread_ts}`;
    if (rec.status) this.shown.set(key, rec);
    else this.shown.delete(key);
  }

  /** The app's reply in the thread replaces the status. */
  replied(channel: string, threadTs: string): void {
    this.shown.delete(`${channel}/${threadTs}`);
  }

  /** What the thread shows now ("" when nothing). */
  current(channel: string, threadTs: string, now = Date.now()): string {
    const rec = this.shown.get(`${channel}/${threadTs}`);
    return rec && now - rec.at < STATUS_TIMEOUT_MS ? rec.status : "";
  }
}
