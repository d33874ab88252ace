// Granted bot scopes, and what a method without its scope answers: missing_scope with `needed`
// and `provided` (every response type on docs.slack.dev/tools/node-slack-sdk/reference/web-api
// has both; a real one: {"error":"missing_scope","needed":"chat:write:bot","provided":"..."} in
// apache/superset#15904). Each method's own scopes are beside its handler in web-api/, copied
// from the "Scopes" of its page under https://docs.slack.dev/reference/methods/.
import { botScopeNames } from "../slack/app-requirements.ts";
import type { ConversationKind } from "./types.ts";

/** A scope that depends on the kind of conversation the method is called on. */
export type ByKind = Readonly<Record<ConversationKind, string>>;

/** conversations.history / conversations.replies. */
export const HISTORY: ByKind = { public: "channels:history", private: "groups:history", im: "im:history", mpim: "mpim:history" };
/** conversations.info / members / list, users.conversations. */
export const READ: ByKind = { public: "channels:read", private: "groups:read", im: "im:read", mpim: "mpim:read" };

export type MethodScopes = readonly string[] | ByKind;

export function acceptedScopes(s: MethodScopes): string[] {
  return Array.isArray(s) ? [...s] : Object.values(s);
}

export class MissingScope extends Error {
  constructor(
    readonly needed: string,
    readonly provided: string,
  ) {
    super(`missing_scope: ${needed}`);
  }
}

export class Grants {
  private granted: Set<string>;

  constructor(scopes: readonly string[] = botScopeNames()) {
    this.granted = new Set(scopes);
  }

  set(scopes: readonly string[]): void {
    this.granted = new Set(scopes);
  }

  list(): string[] {
    return [...this.granted];
  }

  has(scope: string): boolean {
    return this.granted.has(scope);
  }

  /** What Slack sends as `x-oauth-scopes` and as `provided`. */
  header(): string {
    return this.list().join(",");
  }

  need(scope: string): void {
    if (!this.has(scope)) throw new MissingScope(scope, this.header());
  }
}
