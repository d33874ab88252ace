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
