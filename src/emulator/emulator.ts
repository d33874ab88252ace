// Facade: a Slack stand-in on loopback (Web API, Socket Mode, HTTP delivery, files,
// response_url), with user simulation, recording and fault injection for tests and `clawdbot sandbox`.
import type { Server } from "bun";
import { BOT_EVENTS } from "../slack/app-requirements.ts";
import { Delivery } from "./delivery.ts";
import { FaultRegistry } from "./faults.ts";
import { FileServer } from "./file-server.ts";
import { HttpDeliveryRoute, signedPost } from "./http-delivery.ts";
import { SocketProxy } from "./proxy.ts";
import { ResponseUrls } from "./response-url.ts";
import { Grants } from "./scopes.ts";
import {
  type ClickDelivered,
  type Delivered,
  type MentionDelivered,
  type MessageOptions,
  type SlashDelivered,
  UserSimulation,
} from "./simulate.ts";
import { SocketModeServer, type SocketConn, type WsData } from "./socket-mode.ts";
import { type MessageListener, WorkspaceState } from "./state.ts";
import { AssistantStatuses, type StatusRecord } from "./statuses.ts";
import { StreamLog, type StreamRecord } from "./streams.ts";
import type {
  ApiCall,
  ChannelOptions,
  ConnectionLogEntry,
  ConnectionsOpenFailure,
  DisconnectReason,
  EmuChannel,
  EmuFile,
  EmuMessage,
  EnvelopeRecord,
  FaultSpec,
  Gap,
  Reaction,
  ReactionEvent,
  ResolvedOptions,
  ResponsePost,
  SlackEmulatorOptions,
} from "./types.ts";
import { WebApi } from "./web-api/index.ts";

export type { ClickDelivered, Delivered, MentionDelivered, MessageOptions, SlashDelivered } from "./simulate.ts";

const DEFAULTS: Omit<ResolvedOptions, "scopes" | "events"> = {
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
  maxSocketConnections: 10,
};

export interface WaitOptions {
  timeoutMs?: number;
  what?: string;
}

export class SlackEmulator {
  readonly options: ResolvedOptions;
  readonly state: WorkspaceState;
  readonly calls: ApiCall[] = [];
  private readonly faults = new FaultRegistry();
  private readonly grants: Grants;
  private readonly subscribed: Set<string>;
  private readonly hangs = new Set<() => void>();
  private readonly streamLog = new StreamLog();
  private readonly statusLog = new AssistantStatuses();
  private readonly reactionEvents: ReactionEvent[] = [];
  private readonly responseUrls: ResponseUrls;
  private readonly fileServer: FileServer;
  private readonly webApi: WebApi;
  private readonly socketServer: SocketModeServer;
  private readonly delivery: Delivery;
  private readonly sim: UserSimulation;
  private httpRoute?: HttpDeliveryRoute;
  private httpSecret = "";
  private server?: Server<WsData>;
  private proxy?: SocketProxy;
  private refusing = false;

  constructor(opts: SlackEmulatorOptions = {}) {
    const o = { ...DEFAULTS, scopes: undefined, events: undefined } as unknown as ResolvedOptions;
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
    this.grants = new Grants(o.scopes);
    o.scopes = this.grants.list();
    o.events ??= BOT_EVENTS.map((e) => e.name);
    this.subscribed = new Set(o.events);
    this.options = o;
    this.state = new WorkspaceState({ botUserId: o.botUserId, botId: o.botId, teamId: o.teamId, appId: o.appId });
    this.socketServer = new SocketModeServer(
      {
        appId: o.appId,
        onAck: (id, payload, conn) => this.delivery.ack(id, payload, conn),
        onConnectionOpen: () => this.delivery.routeAvailable(),
      },
      o.pingIntervalMs,
      o.maxSocketConnections,
    );
    this.delivery = new Delivery(o, this.socketServer, (rec, payload) => this.onAck(rec, payload));
    this.sim = new UserSimulation({
      state: this.state,
      delivery: this.delivery,
      events: () => this.subscribed,
      newResponseUrl: (target) => this.responseUrls.newUrl(this.baseUrl, target),
    });
    this.responseUrls = new ResponseUrls(this.state, this.faults, (m) => this.sim.echo(m), this.calls);
    this.fileServer = new FileServer(this.state, o, this.grants, this.faults);
    this.webApi = new WebApi({
      opts: o,
      state: this.state,
      grants: this.grants,
      streams: this.streamLog,
      statuses: this.statusLog,
      reactionLog: this.reactionEvents,
      faults: this.faults,
      calls: this.calls,
      hangs: this.hangs,
      baseUrl: () => this.baseUrl,
      socketUrl: () => this.socketUrl(),
      botPosted: (m) => this.sim.echo(m),
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
    this.state.baseUrl = this.baseUrl;
    this.proxy = new SocketProxy(this.requireServer().port ?? 0);
    this.proxy.start();
    this.socketServer.start();
  }

  async stop(): Promise<void> {
    this.delivery.stop();
    this.socketServer.stop();
    this.proxy?.stop();
    this.releaseHangs();
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

  /**
   * A conversation: public or private channel, the bot's DM with someone, a DM between two other
   * people (`{kind: "im", members: [a, b], botMember: false}`), or a group DM (`kind: "mpim"`).
   * The bot is a member unless `botMember: false`.
   */
  addChannel(id: string, opts: ChannelOptions = {}): EmuChannel {
    return this.state.addChannel(id, opts);
  }

  /** The bot leaves (false) or is invited to (true) a conversation. */
  setBotMember(channel: string, member: boolean): void {
    this.state.addChannel(channel, { botMember: member });
  }

  addUser(id: string, opts: { name?: string; realName?: string; deleted?: boolean; isBot?: boolean } = {}): void {
    const u = this.state.ensureUser(id);
    if (opts.name) u.name = opts.name;
    if (opts.realName) u.real_name = opts.realName;
    if (opts.deleted !== undefined) u.deleted = opts.deleted;
    if (opts.isBot !== undefined) u.is_bot = opts.isBot;
  }

  imChannel(user: string): string {
    return this.state.imFor(user).id;
  }

  /** The group DM of these users and the bot (created on first use). */
  mpimChannel(users: string[]): string {
    return this.state.mpimFor(users).id;
  }

  // ---- granted scopes -------------------------------------------------------------

  /** The bot token's scopes (default: all of BOT_SCOPES). */
  get scopes(): string[] {
    return this.grants.list();
  }

  setScopes(scopes: string[]): void {
    this.grants.set(scopes);
  }

  /** Takes scopes away, e.g. `revokeScopes("mpim:history")`. */
  revokeScopes(...scopes: string[]): void {
    this.grants.set(this.grants.list().filter((s) => !scopes.includes(s)));
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

  /** Every file: uploaded by the bot (files.getUploadURLExternal + upload + completeUploadExternal) or shared by a user. */
  get files(): EmuFile[] {
    return [...this.state.files.values()];
  }

  /** url_private fetches and the status each got. */
  get fileDownloads(): FileServer["downloads"] {
    return this.fileServer.downloads;
  }

  /** Streamed messages (chat.startStream...): every chunk as it came, the state, the text. */
  streams(channel?: string): StreamRecord[] {
    return this.streamLog.records.filter((r) => channel === undefined || r.channel === channel);
  }

  /** A user presses stop on a streamed message: further appends answer `stopped_by_user`. */
  stopStreamByUser(channel: string, ts: string): void {
    const rec = this.streamLog.get(channel, ts);
    if (!rec) throw new Error(`stopStreamByUser: no stream ${channel}/${ts}`);
    rec.state = "stopped_by_user";
    rec.stoppedAt = Date.now();
  }

  /** Every assistant.threads.setStatus accepted, in order. */
  get statuses(): StatusRecord[] {
    return this.statusLog.log;
  }

  /** The status a thread shows now: "" when cleared, replaced by a reply, or 2 minutes old. */
  threadStatus(channel: string, threadTs: string): string {
    return this.statusLog.current(channel, threadTs);
  }

  /** Reactions on a message now. */
  reactions(channel: string, ts: string): Reaction[] {
    return this.state.find(channel, ts)?.reactions ?? [];
  }

  /** reactions.add / reactions.remove by the bot, in order. */
  get reactionLog(): ReactionEvent[] {
    return this.reactionEvents;
  }

  /** Every post to a response_url: what was sent, for whom, and what Slack answered. */
  get responses(): ResponsePost[] {
    return this.responseUrls.posts;
  }

  /** Every envelope created, with its delivery attempts and ack. */
  get envelopes(): EnvelopeRecord[] {
    return this.delivery.records;
  }

  /** Server-side view of Socket Mode connections (pings, pongs, what they sent, refusals). */
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

  // ---- user simulation (see simulate.ts) --------------------------------------------

  /** A DM from `user` to the bot; `{files}` makes it a file_share, `{me}` a me_message. */
  dm(user: string, text: string, opts: MessageOptions = {}): Delivered {
    return this.sim.dm(user, text, opts);
  }

  /** `<@BOT> text` in a channel or group DM: two envelopes, `message` then `app_mention`. */
  mention(user: string, channel: string, text: string, opts: MessageOptions = {}): MentionDelivered {
    return this.sim.mention(user, channel, text, opts);
  }

  /** A plain message in a conversation (no mention); `{threadTs, broadcast}` is a thread_broadcast. */
  channelMessage(user: string, channel: string, text: string, opts: MessageOptions = {}): Delivered {
    return this.sim.channelMessage(user, channel, text, opts);
  }

  editMessage(channel: string, ts: string, newText: string): Delivered {
    return this.sim.editMessage(channel, ts, newText);
  }

  deleteMessage(channel: string, ts: string): Delivered {
    return this.sim.deleteMessage(channel, ts);
  }

  /** `/claw text` typed by `user` in `channel` (any conversation, the bot a member or not). */
  slash(user: string, channel: string, text: string, opts: { command?: string } = {}): SlashDelivered {
    return this.sim.slash(user, channel, text, opts);
  }

  click(user: string, channel: string, messageTs: string, actionId: string, value: string): ClickDelivered {
    return this.sim.click(user, channel, messageTs, actionId, value);
  }

  sendEvent(event: Record<string, unknown>, opts: { eventId?: string; duplicates?: number } = {}): { event_id: string; envelope_id: string } {
    return this.sim.sendEvent(event, opts);
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

  /**
   * Makes `method` (any Web API method, "*", or the pseudo-methods "response_url" and
   * "url_private") fail as `spec` says: an HTTP status, any ok:false `error` (with `extra`
   * fields and a Retry-After), latency, or performing the call without answering.
   */
  fault(method: string, spec: FaultSpec = {}): void {
    this.faults.add(method, spec);
  }

  /** Answers the calls held by `executeThenHang` now: Slack's answer, late. */
  releaseHangs(): void {
    for (const release of this.hangs) release();
    this.hangs.clear();
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
    if (req.method === "POST" && path.startsWith("/response/")) return this.responseUrls.handle(path.slice(10), req);
    return (await this.fileServer.route(req, url)) ?? new Response("not found", { status: 404 });
  }

  private onAck(rec: EnvelopeRecord, payload: unknown): void {
    // A slash command's ack (or HTTP answer) may carry the response itself.
    if (rec.type !== "slash_commands" || !payload || typeof payload !== "object") return;
    const p = payload as Record<string, unknown>;
    if (typeof p.text !== "string" && !Array.isArray(p.blocks)) return;
    const channel = String(rec.payload.channel_id ?? "");
    const user = String(rec.payload.user_id ?? "");
    this.responseUrls.apply({ channel, user }, p);
  }
}
