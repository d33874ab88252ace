// Slack text in and out: undo Slack's escaping (what is shown is what runs) and split long
// replies at Slack's limits instead of truncating them.

/** Slack escapes exactly these three; `&amp;` last so `&amp;lt;` stays `&lt;`. */
export function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** Removes the bot's own mention token from a mention's text. */
export function stripMention(text: string, botUserId: string | undefined): string {
  const re = botUserId ? new RegExp(`<@${botUserId}(\\|[^>]*)?>`, "g") : /^<@[UW][A-Z0-9]+(\|[^>]*)?>/;
  return text.replace(re, "").trim();
}

/**
 * Slack accepts 40,000 characters but truncates display around 4,000 and rejects
 * longer blocks; parts of this size stay readable and never hit `msg_too_long`.
 */
export const PART_CHARS = 3900;

export function splitText(text: string, max = PART_CHARS): string[] {
  if (text.length <= max) return [text];
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    // Prefer a line break, then a space, in the last third of the window; else cut hard.
    let cut = rest.lastIndexOf("\n", max);
    if (cut < max * 0.66) cut = rest.lastIndexOf(" ", max);
    if (cut < max * 0.66) cut = max;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n/, "");
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}

/** Raw characters per output part; escaped, framed and headed it stays under Slack's 3,900. */
const PART_RAW_CHARS = 3600;

/** Text, not markup: a `<!channel>` in a command or its output must not ping anybody. */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A ``` in the output would end the code block early; a zero-width space defuses it. */
function defuseFences(s: string): string {
  return s.replace(/```/g, "``\u200b`");
}

/** Output as it goes inside a code block in a message. */
export function renderOutput(s: string): string {
  return escapeSlack(defuseFences(s));
}

/** Cuts text into parts that fit a message once escaped, preferring line ends; nothing dropped. */
export function outputParts(text: string, max = PART_RAW_CHARS): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    let take = Math.min(rest.length, max);
    // Escaping grows &, <, > up to 5x: shrink until the escaped part fits.
    while (take > 1 && renderOutput(rest.slice(0, take)).length > max) take = Math.floor(take * 0.8);
    if (take < rest.length) {
      const nl = rest.lastIndexOf("\n", take - 1);
      if (nl >= take * 0.66) take = nl + 1;
    }
    parts.push(rest.slice(0, take));
    rest = rest.slice(take);
  }
  return parts;
}
