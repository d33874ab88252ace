// Secrets never reach a log line, the store, a health answer or an error message.
const TOKEN_PATTERNS = [/xox[abpcrse]-[A-Za-z0-9-]+/g, /xapp-[A-Za-z0-9-]+/g, /sk-ant-[A-Za-z0-9_-]+/g];
/** The password of a URL with credentials (`https://user:pass@host`, e.g. a relay URL). */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):([^/\s@]+)@/gi;
/** Slack's (legacy) verification token, which Slack puts in every payload it sends. */
const JSON_TOKEN_FIELD = /("token"\s*:\s*)"[^"\\]*"/g;

export function makeRedactor(secrets: string[]): (text: string) => string {
  const exact = [...new Set(secrets.filter((s) => s.length >= 6))].sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const s of exact) out = out.split(s).join("[redacted]");
    for (const re of TOKEN_PATTERNS) out = out.replace(re, (m) => `${m.slice(0, 5)}[redacted]`);
    out = out.replace(URL_PASSWORD, "$1:[redacted]@");
    return out.replace(JSON_TOKEN_FIELD, '$1"[redacted]"');
  };
}
