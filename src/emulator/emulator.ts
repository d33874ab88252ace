// Facade: a Slack stand-in on loopback (Web API, Socket Mode, HTTP delivery), with
// user simulation, recording and fault injection for tests and `clawdbot sandbox`.
import type { Server } from "bun";
import { Delivery } from "./delivery.ts";
import { escapeText } from "./escape.ts";
import { FaultRegistry } from "./faults.ts";
import { HttpDeliveryRoute, signedPost } from "./http-delivery.ts";
import { eventId as newEventId } from "./ids.ts";
import {
  appMentionEvent,
  blockActionsPayload,
  channelType,
  eventCallback,
  messageEvent,
  slashPayload,
  type Identity,
} from "./payloads.ts";
import { SocketProxy } from "./proxy.ts";
import { SocketModeServer, type SocketConn, type WsData } from "./socket-mode.ts";
import { apiMessage, type MessageListener, WorkspaceState } from "./state.ts";
import type {
  ApiCall,
  ConnectionLogEntry,
  ConnectionsOpenFailure,
  DisconnectReason,
  EmuChannel,
  EmuFile,
  EmuMessage,
  EnvelopeRecord,
  FaultSpec,
  Gap,
  ResolvedOptions,
  SlackEmulatorOptions,
} from "./types.ts";
import { WebApi } from "./web-api.ts";

/** The WebClient sends the upload as multipart form data; plain bodies are accepted too. */
async function uploadedBytes(req: Request): Promise<Uint8Array> {
  if ((req.headers.get("content-type") ?? "").includes("multipart/form-data")) {
    const form = await req.formData();
    for (const [, v] of form) if (typeof v !== "string") return new Uint8Array(await v.arrayBuffer());
    const first = [...form.values()][0];
    return new TextEncoder().encode(typeof first === "string" ? first : "");
  }
  return new Uint8Array(await req.arrayBuffer());
}

const DEFAULTS: ResolvedOptions = {
  botUserId: "UBOT",
  botId: "BBOT",
  teamId: "T0001",
  appId: "A0001",
  ackTimeoutMs: 3000,
  maxRetries: 3,
  pingIntervalMs: 5000,
  refreshGraceMs: 10000,
  botToken: "xoxb-emulator",
  appToken: "xapp-emulator",
  httpTimeoutMs: 3000,
};

/** Where a response_url post lands. */
interface ResponseTarget {
  channel: string;
  user: string;
  /** For interactivity: the message the click came from (replace_original/delete_original). */
  messageTs?: string;
}

export interface Delivered {
  channel: string;
  ts: string;
  event_id: string;
  envelope_id: string;
}

export interface MentionDelivered extends Delivered {
  /** The companion `message` event Slack sends alongside the app_mention. */
  message_event_id: string;
  message_envelope_id: string;
}

export interface SlashDelivered {
  channel: string;
  envelope_id: string;
  response_url: string;
  trigger_id: string;
}

export interface ClickDelivered {
  channel: string;
  envelope_id: string;
  response_url: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  what?: string;
}

export class SlackEmulator {
  readonly options: ResolvedOptions;
  readonly state: WorkspaceState;
  readonly calls: ApiCall[] = [];
  private readonly faults = new FaultRegistry();
  private readonly hangs = new Set<() => void>();
  private readonly responseTargets = new Map<string, ResponseTarget>();
  private readonly webApi: WebApi;
  private readonly socketServer: SocketModeServer;
  private readonly delivery: Delivery;
  private httpRoute?: HttpDeliveryRoute;
  private server?: Server<WsData>;
  private proxy?: SocketProxy;
  private refusing = false;

  constructor(opts: SlackEmulatorOptions = {}) {
    const o: ResolvedOptions = { ...DEFAULTS };
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
    this.options = o;
    this.state = new WorkspaceState(o.botUserId);
    this.socketServer = new SocketModeServer(
      {
        appId: o.appId,
        onAck: (id, payload, conn) => this.delivery.ack(id, payload, conn),
        onConnectionOpen: () => this.delivery.routeAvailable(),
      },
      o.pingIntervalMs,
    );
    this.delivery = new Delivery(o, this.socketServer, (rec, payload) => this.onAck(rec, payload));
    this.webApi = new WebApi({
      opts: o,
      state: this.state,
      faults: this.faults,
      calls: this.calls,
      hangs: this.hangs,
      baseUrl: () => this.baseUrl,
      socketUrl: () => `ws://127.0.0.1:${this.requireProxy().port}/socket?ticket=${crypto.randomUUID()}`,
      botPosted: (m) => this.echo(m),
    });
  }

  // ---- lifecycle -------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.server) return;
    this.server = Bun.serve<WsData>({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 0, // hanging answers (executeThenHang) must stay hanging
      fetch: (req, server) => this.route(req, server),
      websocket: {
        idleTimeout: 0, // liveness is driven by our own pings, not Bun's
        sendPings: false,
        open: (ws) => this.socketServer.onOpen(ws),
        message: (ws, msg) => this.socketServer.onMessage(ws, msg),
        pong: (ws) => this.socketServer.onPong(ws),
        close: (ws) => this.socketServer.onClose(ws),
      },
    });
    this.proxy = new SocketProxy(this.requireServer().port ?? 0);
    this.proxy.start();
    this.socketServer.start();
  }

  async stop(): Promise<void> {
    this.delivery.stop();
    this.socketServer.stop();
    this.proxy?.stop();
    for (const release of this.hangs) release();
    this.hangs.clear();
    await this.server?.stop(true);
    this.server = undefined;
  }

  /** Web API base, with trailing slash: give it to WebClient as `slackApiUrl`. */
  get apiUrl(): string {
    return `${this.baseUrl}api/`;
  }

  /** The HTTP server's root, with trailing slash. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.requireServer().port}/`;
  }

  /** A Socket Mode URL, as apps.connections.open would hand out. */
  socketUrl(): string {
    return `ws://127.0.0.1:${this.requireProxy().port}/socket?ticket=${crypto.randomUUID()}`;
  }

  // ---- workspace -------------------------------------------------------------------

  addChannel(id: string, opts: { name?: string; members?: string[]; botMember?: boolean } = {}): EmuChannel {
    return this.state.addChannel(id, opts);
  }

  addUser(id: string, opts: { name?: string; realName?: string } = {}): void {
    const u = this.state.ensureUser(id);
    if (opts.name) u.name = opts.name;
    if (opts.realName) u.real_name = opts.realName;
  }

  imChannel(user: string): string {
    return this.state.imFor(user).id;
  }

  // ---- recording -------------------------------------------------------------------

  messages(channel?: string): EmuMessage[] {
    return this.state.allMessages.filter((m) => channel === undefined || m.channel === channel);
  }

  /** Called for every message stored, updated or deleted (user, bot, ephemeral). Returns an unsubscribe. */
  onMessage(listener: MessageListener): () => void {
    return this.state.subscribe(listener);
  }

  botMessages(channel?: string): EmuMessage[] {
    return this.messages(channel).filter((m) => m.bot_id === this.options.botId);
  }

  /** Files uploaded via files.getUploadURLExternal + upload + files.completeUploadExternal. */
  get files(): EmuFile[] {
    return [...this.state.files.values()];
  }

  /** Every envelope created, with its delivery attempts and ack. */
  get envelopes(): EnvelopeRecord[] {
    return this.delivery.records;
  }

  /** Server-side view of Socket Mode connections (pings, pongs, what they sent). */
  get sockets(): SocketConn[] {
    return this.socketServer.conns;
  }

  async waitFor<T>(predicate: () => T | undefined | false | null, opts: WaitOptions = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? 10000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate();
      if (v !== undefined && v !== false && v !== null) return v;
      if (Date.now() > deadline) throw new Error(`waitFor timed out after ${timeoutMs} ms: ${opts.what ?? "condition"}`);
      await Bun.sleep(5);
    }
  }

  // ---- connection accounting (TCP level, at the proxy) -------------------------------

  openConnections(): number {
    return this.proxy?.open() ?? 0;
  }

  get connectionLog(): ConnectionLogEntry[] {
    return this.proxy?.log ?? [];
  }

  get maxConcurrentConnections(): number {
    return this.proxy?.maxConcurrent ?? 0;
  }

  gapsWithoutConnection(): Gap[] {
    return this.proxy?.gaps() ?? [];
  }

  // ---- user simulation -------------------------------------------------------------

  private get identity(): Identity {
    const o = this.options;
    return { botUserId: o.botUserId, botId: o.botId, teamId: o.teamId, appId: o.appId };
  }

  private storeUserMessage(user: string, ch: EmuChannel, text: string, threadTs?: string): EmuMessage {
    this.state.ensureUser(user);
    ch.members.add(user);
    const m: EmuMessage = { channel: ch.id, ts: this.state.clock.next(), user, text, client_msg_id: crypto.randomUUID() };
    if (threadTs) m.thread_ts = threadTs;
    return this.state.store(m);
  }

  private deliverEvent(event: Record<string, unknown>, evId?: string): { event_id: string; envelope_id: string } {
    const payload = eventCallback(this.identity, event, evId);
    const rec = this.delivery.enqueue("events_api", payload, false);
    return { event_id: String(payload.event_id), envelope_id: rec.envelope_id };
  }

  /** A DM from `user` to the bot. */
  dm(user: string, text: string, opts: { threadTs?: string } = {}): Delivered {
    const ch = this.state.imFor(user);
    const m = this.storeUserMessage(user, ch, escapeText(text), opts.threadTs);
    const d = this.deliverEvent(messageEvent(this.identity, m, ch, this.parentUser(m)));
    return { channel: ch.id, ts: m.ts, ...d };
  }

  /** `<@BOT> text` in a channel: two envelopes, `message` then `app_mention`, as Slack sends. */
  mention(user: string, channel: string, text: string, opts: { threadTs?: string } = {}): MentionDelivered {
    const ch = this.state.ensureChannel(channel, user);
    const m = this.storeUserMessage(user, ch, `<@${this.options.botUserId}> ${escapeText(text)}`, opts.threadTs);
    const msg = this.deliverEvent(messageEvent(this.identity, m, ch, this.parentUser(m)));
    const mention = this.deliverEvent(appMentionEvent(this.identity, m));
    return {
      channel: ch.id,
      ts: m.ts,
      ...mention,
      message_event_id: msg.event_id,
      message_envelope_id: msg.envelope_id,
    };
  }

  /** A plain message in a channel (no mention). */
  channelMessage(user: string, channel: string, text: string, opts: { threadTs?: string } = {}): Delivered {
    const ch = this.state.ensureChannel(channel, user);
    const m = this.storeUserMessage(user, ch, escapeText(text), opts.threadTs);
    const d = this.deliverEvent(messageEvent(this.identity, m, ch, this.parentUser(m)));
    return { channel: ch.id, ts: m.ts, ...d };
  }

  /** A user edits a message: `message_changed` event. */
  editMessage(channel: string, ts: string, newText: string): Delivered {
    const m = this.state.find(channel, ts);
    if (!m) throw new Error(`editMessage: no message ${channel}/${ts}`);
    const previous = apiMessage(m, this.state, this.identity);
    m.text = escapeText(newText);
    const eventTs = this.state.clock.next();
    m.edited = { user: m.user ?? "", ts: eventTs };
    this.state.notify(m, "updated");
    const ch = this.state.channels.get(channel);
    const d = this.deliverEvent({
      type: "message",
      subtype: "message_changed",
      hidden: true,
      channel,
      message: apiMessage(m, this.state, this.identity),
      previous_message: previous,
      ts: eventTs,
      event_ts: eventTs,
      channel_type: channelType(ch),
    });
    return { channel, ts: eventTs, ...d };
  }

  /** A message is deleted: `message_deleted` event. */
  deleteMessage(channel: string, ts: string): Delivered {
    const m = this.state.remove(channel, ts);
    if (!m) throw new Error(`deleteMessage: no message ${channel}/${ts}`);
    const eventTs = this.state.clock.next();
    const ch = this.state.channels.get(channel);
    const d = this.deliverEvent({
      type: "message",
      subtype: "message_deleted",
      hidden: true,
      channel,
      deleted_ts: ts,
      previous_message: apiMessage(m, this.state, this.identity),
      ts: eventTs,
      event_ts: eventTs,
      channel_type: channelType(ch),
    });
    return { channel, ts: eventTs, ...d };
  }

  /** `/claw text` (or another command) typed by `user` in `channel`. */
  slash(user: string, channel: string, text: string, opts: { command?: string } = {}): SlashDelivered {
    const ch = channel.startsWith("D") || channel.startsWith("C") || channel.startsWith("G")
      ? this.state.ensureChannel(channel, user)
      : this.state.imFor(user);
    const u = this.state.ensureUser(user);
    const responseUrl = this.newResponseUrl({ channel: ch.id, user });
    const payload = slashPayload(this.identity, u, ch, opts.command ?? "/claw", escapeText(text), responseUrl);
    const rec = this.delivery.enqueue("slash_commands", payload, true);
    return { channel: ch.id, envelope_id: rec.envelope_id, response_url: responseUrl, trigger_id: payload.trigger_id ?? "" };
  }

  /** `user` clicks the button `actionId` (with `value`) on the message `messageTs`. */
  click(user: string, channel: string, messageTs: string, actionId: string, value: string): ClickDelivered {
    const m = this.state.find(channel, messageTs);
    if (!m) throw new Error(`click: no message ${channel}/${messageTs}`);
    const ch = this.state.ensureChannel(channel);
    const u = this.state.ensureUser(user);
    const responseUrl = this.newResponseUrl({ channel: ch.id, user, messageTs });
    const payload = blockActionsPayload(
      this.identity,
      u,
      ch,
      apiMessage(m, this.state, this.identity),
      m.blocks,
      actionId,
      value,
      responseUrl,
    );
    const rec = this.delivery.enqueue("interactive", payload, false);
    return { channel: ch.id, envelope_id: rec.envelope_id, response_url: responseUrl };
  }

  /** Any event (tokens_revoked, reaction_added, app_home_opened, ...), wrapped in an event_callback. */
  sendEvent(event: Record<string, unknown>, opts: { eventId?: string; duplicates?: number } = {}): { event_id: string; envelope_id: string } {
    const ev = { event_ts: this.state.clock.next(), ...event };
    const d = this.deliverEvent(ev, opts.eventId ?? newEventId());
    for (let i = 1; i < (opts.duplicates ?? 1); i++) this.delivery.redeliver(d.envelope_id);
    return d;
  }

  /** Sends an envelope again at once as a retry (retry_attempt = last + 1, reason "timeout"). */
  redeliver(envelopeId: string): void {
    this.delivery.redeliver(envelopeId);
  }

  // ---- delivery mode ---------------------------------------------------------------

  /** Deliver to `POST url` (HTTP mode) instead of the socket, signed with `signingSecret`. */
  useHttpDelivery(url: string, signingSecret: string): void {
    this.httpRoute = new HttpDeliveryRoute(url, signingSecret, this.options.httpTimeoutMs, {
      onAck: (id, payload) => this.delivery.ack(id, payload, "http"),
      onFailure: (id, reason) => this.delivery.noteFailure(id, reason),
    });
    this.httpSecret = signingSecret;
    this.delivery.setRoute(this.httpRoute);
    this.delivery.routeAvailable();
  }

  useSocketDelivery(): void {
    this.httpRoute = undefined;
    this.delivery.setRoute(this.socketServer);
    this.delivery.routeAvailable();
  }

  /** HTTP-mode attempts and their statuses. */
  get httpResults(): HttpDeliveryRoute["results"] {
    return this.httpRoute?.results ?? [];
  }

  private httpSecret = "";

  /** Sends Slack's url_verification challenge; `ok` when the answer echoes it. */
  async urlVerification(url: string, signingSecret?: string): Promise<{ ok: boolean; status: number; body: string }> {
    const challenge = crypto.randomUUID();
    const body = JSON.stringify({ token: "emulator-verification-token", challenge, type: "url_verification" });
    const res = await signedPost(url, signingSecret ?? this.httpSecret, body, "application/json", this.options.httpTimeoutMs);
    const text = await res.text();
    let echoed = text.trim() === challenge;
    try {
      echoed ||= (JSON.parse(text) as { challenge?: string }).challenge === challenge;
    } catch {
      // plain-text answers were checked above
    }
    return { ok: res.ok && echoed, status: res.status, body: text };
  }

  // ---- faults ----------------------------------------------------------------------

  fault(method: string, spec: FaultSpec = {}): void {
    this.faults.add(method, spec);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  failConnectionsOpen(times: number | "forever", kind: ConnectionsOpenFailure = "http500"): void {
    this.faults.failConnectionsOpen(times, kind);
  }

  /** New WebSocket connections are cut at once (TCP accepted, then destroyed). */
  refuseSockets(on: boolean): void {
    this.refusing = on;
    this.proxy?.setRefusing(on);
  }

  /** Abrupt close of every socket: TCP destroyed, no close frame. */
  dropSockets(): void {
    this.proxy?.dropAll();
    this.socketServer.terminateAll();
  }

  /** Bytes stop flowing both ways (held, and released on `blackhole(false)`), TCP stays open. */
  blackhole(on: boolean): void {
    this.proxy?.setBlackhole(on);
  }

  /** Sockets stay alive and ping, but events are withheld until `deafen(false)`. */
  deafen(on: boolean): void {
    this.delivery.setDeafened(on);
  }

  sendDisconnect(reason: DisconnectReason): void {
    this.socketServer.sendDisconnect(reason, this.options.refreshGraceMs);
  }

  /** Every later call answers invalid_auth; with `event`, a tokens_revoked event is sent first. */
  revokeTokens(opts: { event?: boolean } = {}): void {
    if (opts.event) this.sendEvent({ type: "tokens_revoked", tokens: { oauth: [], bot: [this.options.botUserId] } });
    this.faults.revoked = true;
  }

  restoreTokens(): void {
    this.faults.revoked = false;
  }

  // ---- internals -------------------------------------------------------------------

  private requireServer(): Server<WsData> {
    if (!this.server) throw new Error("SlackEmulator not started");
    return this.server;
  }

  private requireProxy(): SocketProxy {
    if (!this.proxy) throw new Error("SlackEmulator not started");
    return this.proxy;
  }

  private async route(req: Request, server: Server<WsData>): Promise<Response | undefined> {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path.startsWith("/api/")) return this.webApi.handle(req, path.slice(5));
    if (path === "/socket") {
      if (this.refusing) return new Response("refused", { status: 503 });
      const ticket = url.searchParams.get("ticket") ?? "";
      if (server.upgrade(req, { data: this.socketServer.newData(ticket) })) return undefined;
      return new Response("upgrade required", { status: 426 });
    }
    if (req.method === "POST" && path.startsWith("/response/")) return this.onResponseUrl(path.slice(10), req);
    if (req.method === "POST" && path.startsWith("/upload/")) {
      const file = this.state.files.get(path.slice(8));
      if (!file) return new Response("file not found", { status: 404 });
      file.content = await uploadedBytes(req);
      return new Response(`OK - ${file.content.byteLength}`, { status: 200 });
    }
    return new Response("not found", { status: 404 });
  }

  private newResponseUrl(target: ResponseTarget): string {
    const id = crypto.randomUUID();
    this.responseTargets.set(id, target);
    return `${this.baseUrl}response/${id}`;
  }

  private async onResponseUrl(id: string, req: Request): Promise<Response> {
    const target = this.responseTargets.get(id);
    let body: Record<string, unknown> = {};
    try {
      const ct = req.headers.get("content-type") ?? "";
      if (ct.includes("application/x-www-form-urlencoded")) {
        const form = new URLSearchParams(await req.text());
        body = JSON.parse(form.get("payload") ?? "{}") as Record<string, unknown>;
      } else body = (await req.json()) as Record<string, unknown>;
    } catch {
      return new Response(JSON.stringify({ ok: false, error: "invalid_payload" }), { status: 400 });
    }
    this.calls.push({ method: "response_url", args: body, at: Date.now(), status: target ? 200 : 404, response: undefined });
    if (!target) return new Response(JSON.stringify({ ok: false, error: "expired_url" }), { status: 404 });
    const err = this.applyResponse(target, body);
    const out = err ? { ok: false, error: err } : { ok: true };
    return new Response(JSON.stringify(out), { status: err ? 400 : 200, headers: { "Content-Type": "application/json" } });
  }

  /** What Slack does with a response_url post (or a slash command's ack/HTTP answer). */
  private applyResponse(target: ResponseTarget, body: Record<string, unknown>): string | undefined {
    const o = this.options;
    const text = typeof body.text === "string" ? body.text : "";
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
    if (text.length > 40000) return "msg_too_long";
    if (target.messageTs && body.delete_original === true) {
      this.state.remove(target.channel, target.messageTs);
      return undefined;
    }
    if (target.messageTs && body.replace_original === true) {
      const m = this.state.find(target.channel, target.messageTs);
      if (!m) return "message_not_found";
      m.text = text;
      if (blocks) m.blocks = blocks;
      else delete m.blocks;
      this.state.notify(m, "updated");
      return undefined;
    }
    if (!text && !blocks) return "no_text";
    const m: EmuMessage = { channel: target.channel, ts: this.state.clock.next(), user: o.botUserId, bot_id: o.botId, text };
    if (blocks) m.blocks = blocks;
    if (typeof body.thread_ts === "string") m.thread_ts = body.thread_ts;
    if (body.response_type !== "in_channel") m.ephemeral = { user: target.user };
    this.state.store(m);
    if (!m.ephemeral) this.echo(m);
    return undefined;
  }

  private onAck(rec: EnvelopeRecord, payload: unknown): void {
    // A slash command's ack (or HTTP answer) may carry the response itself.
    if (rec.type !== "slash_commands" || !payload || typeof payload !== "object") return;
    const p = payload as Record<string, unknown>;
    if (typeof p.text !== "string" && !Array.isArray(p.blocks)) return;
    const channel = String(rec.payload.channel_id ?? "");
    const user = String(rec.payload.user_id ?? "");
    this.applyResponse({ channel, user }, p);
  }

  private parentUser(m: EmuMessage): string | undefined {
    return m.thread_ts && m.thread_ts !== m.ts ? this.state.find(m.channel, m.thread_ts)?.user : undefined;
  }

  /** Slack echoes the bot's own posts as `message` events (the heartbeat canary relies on it). */
  private echo(m: EmuMessage): void {
    const ch = this.state.channels.get(m.channel);
    if (!ch || (ch.kind !== "im" && !ch.botMember)) return;
    this.deliverEvent(messageEvent(this.identity, m, ch, this.parentUser(m)));
  }
}
