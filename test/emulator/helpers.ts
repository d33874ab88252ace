// Test helpers: a raw Socket Mode client on Bun's WebSocket.
import { LogLevel, WebClient } from "@slack/web-api";
import type { SlackEmulator } from "../../src/emulator/index.ts";

const noop = () => {};
/** The SDK logs every refusal (response_metadata.messages, warnings); tests assert on them instead. */
const quiet = { debug: noop, info: noop, warn: noop, error: noop, setLevel: noop, getLevel: () => LogLevel.ERROR, setName: noop };

export function botClient(emu: SlackEmulator, extra: Record<string, unknown> = {}): WebClient {
  return new WebClient(emu.options.botToken, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 }, logger: quiet, ...extra });
}

export function appClient(emu: SlackEmulator): WebClient {
  return new WebClient(emu.options.appToken, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } });
}

export interface Frame {
  type?: string;
  envelope_id?: string;
  retry_attempt?: number;
  retry_reason?: string;
  accepts_response_payload?: boolean;
  payload?: Record<string, any>;
  reason?: string;
  num_connections?: number;
}

export class RawSocket {
  readonly frames: Frame[] = [];
  closed = false;
  closeCode?: number;
  readonly ws: WebSocket;
  private readonly opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener("open", () => resolve());
      this.ws.addEventListener("error", () => reject(new Error("ws error")));
    });
    this.ws.addEventListener("message", (e) => this.frames.push(JSON.parse(String(e.data)) as Frame));
    this.ws.addEventListener("close", (e) => {
      this.closed = true;
      this.closeCode = e.code;
    });
  }

  static async open(emu: SlackEmulator): Promise<RawSocket> {
    const res = await appClient(emu).apps.connections.open({});
    const s = new RawSocket(String(res.url));
    await s.opened;
    return s;
  }

  envelopes(): Frame[] {
    return this.frames.filter((f) => f.envelope_id);
  }

  ack(envelopeId: string, payload?: unknown): void {
    this.ws.send(JSON.stringify(payload === undefined ? { envelope_id: envelopeId } : { envelope_id: envelopeId, payload }));
  }

  close(): void {
    this.ws.close();
  }
}
