// Where an approval card goes so that an approver can see it: the channel it was asked in when
// the bot is a member there, else CLAWDBOT_APPROVAL_CHANNEL, else a DM to each approver (every
// copy the same card). And whether the bot can post in a conversation at all: a /claw typed in
// a channel without the bot, or in a DM between two people, is answered through its response_url.
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { type ConversationInfo, SlackCallError, type SlackPort } from "./slack-port.ts";

/** A conversation, and a thread in it. */
export interface Where {
  channel: string;
  threadTs?: string;
}

export interface CardRoute {
  /** Where the copies of the card go. */
  copies: Where[];
  /** Where the requester hears the outcome later: a conversation the bot can post in. */
  requester: Where;
  /** What the requester is told about where the card went; null when it is in their conversation. */
  notice: string | null;
}

export interface CardRouterOptions {
  slack: Pick<SlackPort, "conversationInfo" | "openDm">;
  approvers: string[];
  /** CLAWDBOT_SELF_APPROVAL: off, a requester's own DM is no place for their card. */
  selfApproval: boolean;
  approvalChannel: string | undefined;
  clock: Clock;
  log: Logger;
  /** How long what conversations.info said is believed (membership changes rarely). */
  cacheMs?: number;
}

/** Membership changes when someone invites or removes the bot: a minute of belief is enough. */
const INFO_CACHE_MS = 60_000;
/** Errors that say the bot cannot see the conversation at all. */
const INVISIBLE = new Set(["channel_not_found", "not_in_channel", "method_not_supported_for_channel_type"]);

/** The route when the card stays where it was asked (no conversation lookups: tests, replay's default). */
export function routeHere(origin: Where): CardRoute {
  return { copies: [origin], requester: origin, notice: null };
}

export class CardRouter {
  private readonly info = new Map<string, { at: number; value: ConversationInfo | null }>();
  /** Each user's DM channel with the bot: it never changes. */
  private readonly dms = new Map<string, string>();

  constructor(private readonly o: CardRouterOptions) {}

  /**
   * What the bot knows of a conversation: null when it cannot see it (a private channel or a DM
   * it is not in). undefined when Slack could not say (a transient error): the caller assumes
   * the best and falls back on the error.
   */
  private async conversation(channel: string): Promise<ConversationInfo | null | undefined> {
    const now = this.o.clock.mono();
    const hit = this.info.get(channel);
    if (hit && now - hit.at < (this.o.cacheMs ?? INFO_CACHE_MS)) return hit.value;
    try {
      const value = await this.o.slack.conversationInfo(channel);
      this.info.set(channel, { at: now, value });
      return value;
    } catch (err) {
      const code = err instanceof SlackCallError ? err.failure.message : String(err);
      if (INVISIBLE.has(code)) {
        this.info.set(channel, { at: now, value: null });
        return null;
      }
      this.o.log.warn(`cannot look up conversation ${channel}: ${code}; assuming clawdbot can post there`);
      return undefined;
    }
  }

  /** Whether the bot can post in `channel` (a member, or its own DM). Unknown counts as yes. */
  async canPost(channel: string): Promise<boolean> {
    const c = await this.conversation(channel);
    return c === undefined || c?.isMember === true;
  }

  private async dm(user: string): Promise<string | null> {
    const known = this.dms.get(user);
    if (known) return known;
    try {
      const id = await this.o.slack.openDm(user);
      this.dms.set(user, id);
      return id;
    } catch (err) {
      this.o.log.warn(`cannot open a DM with ${user}: ${(err as Error).message}`);
      return null;
    }
  }

  /** Where the card for a job asked by `requestedBy` in `origin` goes. */
  async route(origin: Where, requestedBy: string): Promise<CardRoute> {
    const here = await this.conversation(origin.channel);
    const postable = here === undefined || here?.isMember === true;
    // In a DM or a group DM only the people in it see the card: fine if the requester may decide it.
    const shared = here === undefined || here?.kind === "public" || here?.kind === "private";
    const mayDecide = (u: string) => this.o.approvers.includes(u) && (this.o.selfApproval || u !== requestedBy);
    if (postable && (shared || mayDecide(requestedBy))) return routeHere(origin);

    const requester = postable ? origin : await this.requesterDm(origin, requestedBy);
    const result = requester === origin ? "you will hear the result here" : "you will hear the result in your DM with me";
    const ch = this.o.approvalChannel;
    if (ch && (await this.canPost(ch))) {
      return { copies: [{ channel: ch }], requester, notice: `an approver will see the card in <#${ch}>; ${result}` };
    }
    if (ch) this.o.log.warn(`CLAWDBOT_APPROVAL_CHANNEL ${ch}: clawdbot is not a member there; invite it. Sending cards to the approvers by DM instead`);
    const copies: Where[] = [];
    for (const approver of this.o.approvers.filter(mayDecide)) {
      const id = await this.dm(approver);
      if (id) copies.push({ channel: id });
    }
    if (copies.length) return { copies, requester, notice: `I sent the card to the approvers; ${result}` };
    this.o.log.error("no approver could be reached by DM (im:write missing?): the card stays where it was asked");
    return { copies: [requester], requester, notice: null };
  }

  /** The requester's own DM with the bot, for a request made where the bot cannot post. */
  private async requesterDm(origin: Where, user: string): Promise<Where> {
    const id = await this.dm(user);
    return id ? { channel: id } : origin;
  }
}
