// Slack text in and out: undo Slack's escaping (what is shown is what runs), escape what the
// bot says, show a command's hidden characters, and split long replies at Slack's limits
// instead of truncating them.

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
 * Characters per message part. Slack truncates `text` beyond 40,000 and chat.update refuses it
 * beyond 4,000 (SLACK_LIMITS); parts under both stay readable and are never refused.
 */
export const PART_CHARS = 3900;

const ENTITY: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/**
 * Slack syntax an answer keeps: a user or channel mention and a link (`<https://x|label>`).
 * Nothing starting `<!` (`<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^ID>`, `<!date^...>`)
 * is kept, so an agent never notifies a crowd. A plain `@channel` stays text: Slack makes it a
 * mention only with `link_names` or `parse: full` (chat.postMessage arguments), which the bot never sets.
 */
const KEPT_TOKEN = /<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|(?:https?:\/\/|mailto:)[^\s<>|]+)(?:\|[^<>\n]*)?>/;
const PROSE = new RegExp(`(${KEPT_TOKEN.source})|[&<>]`, "g");

function escapeProse(s: string): string {
  return s.replace(PROSE, (m, token?: string) => (token ? token.replace(/&/g, "&amp;") : (ENTITY[m] as string)));
}

/** Where code starting at a backtick ends: a fence at its closing ```, a span at the next ` on its line. */
function codeEnd(text: string, at: number): number {
  if (text.startsWith("```", at)) {
    const close = text.indexOf("```", at + 3);
    return close < 0 ? text.length : close + 3;
  }
  const close = text.indexOf("`", at + 1);
  const nl = text.indexOf("\n", at + 1);
  return close > 0 && (nl < 0 || close < nl) ? close + 1 : at + 1;
}

/**
 * What the agent says, as Slack mrkdwn: `&`, `<` and `>` show as written (`Promise<void>`,
 * `a && b`), mentions of users and links keep working, broadcasts never notify. Code spans and
 * fences are escaped whole (Slack needs the entities there too), so a mention in code is text.
 * Markdown is left as written: `*bold*` and fences are the same in mrkdwn.
 */
export function formatAnswer(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const tick = text.indexOf("`", i);
    if (tick < 0) return out + escapeProse(text.slice(i));
    const end = codeEnd(text, tick);
    out += escapeProse(text.slice(i, tick)) + escapeSlack(text.slice(tick, end));
    i = end;
  }
  return out;
}

/** A part of a split message: `open` + `body` + `close`; the bodies joined give back the text. */
export interface Part {
  /** A code fence reopened (with its language tag) because the previous part ended inside it. */
  open: string;
  body: string;
  /** The fence closed because this part ends inside it. */
  close: string;
}

/** `1.2 s` under ten seconds, whole seconds above: precise where it matters, short always. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

/** Units a cut must not go through: an entity, a mention or link token, a `\u` escape. */
const ATOM = /&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);|<[^<>\n]*>|\\u\{[0-9a-f]+\}|\\u[0-9a-f]{4}/g;
const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" });

/** blocked[i] is 1 where cutting before text[i] would break an atom or a character (emoji sequences included). */
function unsafeCuts(text: string): Uint8Array {
  const blocked = new Uint8Array(text.length + 1);
  const block = (from: number, to: number) => blocked.fill(1, from, to);
  for (const m of text.matchAll(ATOM)) block(m.index + 1, m.index + m[0].length);
  for (const g of graphemes.segment(text)) if (g.segment.length > 1) block(g.index + 1, g.index + g.segment.length);
  return blocked;
}

interface FenceMark {
  at: number;
  opens: boolean;
  /** The language tag of an opening fence (```ts), else "". */
  lang: string;
  /** Just past the marker, and past its tag line for an opening one. */
  end: number;
}

/** Every ``` in order, alternately opening and closing, as Slack reads them. */
function fenceMarks(text: string): FenceMark[] {
  const marks: FenceMark[] = [];
  let opens = true;
  for (let at = text.indexOf("```"); at >= 0; opens = !opens) {
    const lang = opens ? (/^[\w+#.-]{1,30}(?=\n)/.exec(text.slice(at + 3, at + 34))?.[0] ?? "") : "";
    let end = at + 3 + lang.length;
    if (opens && text[end] === "\n") end++;
    marks.push({ at, opens, lang, end });
    at = text.indexOf("```", at + 3 + lang.length);
  }
  return marks;
}

/** The language tag of the fence open at `cut`, or null if none is. */
function fenceOpenAt(marks: FenceMark[], cut: number): string | null {
  let open: string | null = null;
  for (const m of marks) {
    if (m.at >= cut) break;
    open = m.opens ? m.lang : null;
  }
  return open;
}

/**
 * The end of the next part: after a line break, else after a space (either in the last two
 * thirds of the window if there is one, else anywhere), else hard at a safe place; through an
 * atom only when the window holds nothing else.
 */
function chooseCut(text: string, from: number, limit: number, blocked: Uint8Array): number {
  const third = from + Math.floor((limit - from) / 3);
  for (const [ch, floor] of [["\n", third], [" ", third], ["\n", from], [" ", from]] as const) {
    for (let i = limit - 1; i >= floor; i--) if (text[i] === ch && !blocked[i + 1]) return i + 1;
  }
  for (let c = limit; c > from; c--) if (!blocked[c]) return c;
  const low = text.charCodeAt(limit);
  return low >= 0xdc00 && low <= 0xdfff && limit - 1 > from ? limit - 1 : limit;
}

/**
 * Cuts mrkdwn into parts of at most `max` characters, each valid on its own: a code fence open
 * at a cut is closed at the end of the part and reopened, with its language tag, in the next.
 * Never cuts inside an entity, a `<...>` token or a character. `fences: false` for text that is
 * not mrkdwn (rich text), where ``` means nothing.
 */
export function splitParts(text: string, max = PART_CHARS, o: { fences?: boolean } = {}): Part[] {
  if (text.length <= max) return [{ open: "", body: text, close: "" }];
  const marks = o.fences === false ? [] : fenceMarks(text);
  const blocked = unsafeCuts(text);
  for (const m of marks) {
    // Not inside a marker or its tag, and never leaving a part with an empty code block.
    if (m.opens) blocked.fill(1, m.at + 1, m.end + 1);
    else blocked.fill(1, m.at, m.at + 3);
  }
  const parts: Part[] = [];
  let from = 0;
  let open = "";
  while (open.length + text.length - from > max) {
    const room = max - open.length;
    let cut = chooseCut(text, from, from + room, blocked);
    let lang = fenceOpenAt(marks, cut);
    // The closing fence needs room too ("\n```" at most).
    if (lang !== null && cut - from + 4 > room) {
      cut = chooseCut(text, from, from + room - 4, blocked);
      lang = fenceOpenAt(marks, cut);
    }
    const close = lang === null ? "" : text[cut - 1] === "\n" ? "```" : "\n```";
    parts.push({ open, body: text.slice(from, cut), close });
    open = lang === null ? "" : `\`\`\`${lang}\n`;
    from = cut;
  }
  parts.push({ open, body: text.slice(from), close: "" });
  return parts;
}

/** Long mrkdwn as messages Slack accepts, every one rendering on its own (see splitParts). */
export function splitText(text: string, max = PART_CHARS): string[] {
  return splitParts(text, max).map((p) => p.open + p.body + p.close);
}

/** Escaped mrkdwn cut to at most `max` characters, ending in "…", never inside an atom or a character. */
export function clipMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max + 40);
  const blocked = unsafeCuts(head);
  let cut = max - 1;
  while (cut > 0 && blocked[cut]) cut--;
  return `${text.slice(0, cut)}…`;
}

/**
 * What could hide or disguise part of a command: controls (C0 and C1 but \n and \t, which
 * show as what they are), format characters (category Cf: zero-width, bidi embeddings,
 * overrides and isolates, U+FEFF, soft hyphen, tag characters), other default-ignorable
 * characters (variation selectors, Hangul fillers), separators other than the space (U+00A0
 * looks like a space but does not split words; U+2028 looks like a line break), U+2800 (a
 * blank that is a letter) and unpaired surrogates.
 */
const HIDDEN = /(?![\n\t ])[\p{Cc}\p{Cf}\p{Cs}\p{Z}\p{Default_Ignorable_Code_Point}\u2800]|\\(?=u)/gu;

/**
 * A command as an approver must see it: every hidden character above written as `\u200b`
 * (`\u{e0041}` beyond U+FFFF). Unambiguous: a backslash typed before `u` is itself written
 * `\u005c`, so every `\u` shown is an escape and nothing typed can pass for one.
 */
export function revealHidden(s: string): string {
  return s.replace(HIDDEN, (ch) => {
    const cp = ch.codePointAt(0) as number;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, "0")}`;
  });
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
