// Slack request signing (http mode): v0=hex(HMAC-SHA256(secret, "v0:{ts}:{raw body}")).
// Pure, so the events endpoint and its tests share one check.
import { createHmac, timingSafeEqual } from "node:crypto";

export interface SignatureInput {
  signingSecret: string;
  /** The raw body exactly as received: any re-serialisation breaks the signature. */
  body: string;
  /** X-Slack-Request-Timestamp (unix seconds). */
  timestamp: string | null;
  /** X-Slack-Signature. */
  signature: string | null;
  /** Current time in ms. */
  now: number;
  /** Replay window in seconds; Slack recommends 5 minutes. */
  toleranceS?: number;
}

export type SignatureResult = { ok: true } | { ok: false; reason: string };

export function slackSignature(signingSecret: string, timestamp: string, body: string): string {
  return "v0=" + createHmac("sha256", signingSecret).update(`v0:${timestamp}:${body}`).digest("hex");
}

export function verifySlackSignature(input: SignatureInput): SignatureResult {
  const { signingSecret, body, timestamp, signature, now, toleranceS = 300 } = input;
  if (!signingSecret) return { ok: false, reason: "no signing secret configured" };
  if (!timestamp) return { ok: false, reason: "missing X-Slack-Request-Timestamp" };
  if (!signature) return { ok: false, reason: "missing X-Slack-Signature" };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "malformed timestamp" };

  // Both directions: an old request is a replay, a future one is forged or a broken clock.
  const skewS = Math.abs(now / 1000 - Number(timestamp));
  if (skewS > toleranceS) return { ok: false, reason: `timestamp ${Math.round(skewS)} s away from now (limit ${toleranceS} s)` };

  const expected = Buffer.from(slackSignature(signingSecret, timestamp, body), "utf8");
  const given = Buffer.from(signature, "utf8");
  // timingSafeEqual throws on different lengths; a length mismatch reveals nothing secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: "signature mismatch" };
  }
  return { ok: true };
}
