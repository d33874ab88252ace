// Slack's message markup as a person reads it in a terminal: what the Slack client would
// draw instead of the raw `<@U123>`, `:warning:` and `&lt;` the bot sends.
import { unescapeText } from "../emulator/index.ts";

/** The shortcodes the bot's own messages use, as characters most terminals can draw. */
const EMOJI: Record<string, string> = {
  warning: "⚠",
  double_vertical_bar: "⏸",
  arrow_forward: "▶",
  heartbeat: "♥",
  white_check_mark: "✔",
  heavy_check_mark: "✔",
  x: "✖",
  no_entry: "⛔",
  no_entry_sign: "⛔",
  hourglass: "⌛",
  hourglass_flowing_sand: "⏳",
  stopwatch: "⏱",
  eyes: "👀",
  lock: "🔒",
  robot_face: "🤖",
  information_source: "ℹ",
  page_facing_up: "📄",
};

/**
 * `<@U1>` and `<@U1|name>` become @name (from `names`, else the id), `<#C1|general>` #general,
 * `<!here>` @here, `<url|label>` "label (url)"; known shortcodes become their character; then
 * &lt; &gt; &amp; are unescaped (last: an escaped `&lt;@U1&gt;` is text, not a mention).
 */
export function renderSlackText(text: string, names: Record<string, string> = {}): string {
  const linked = text.replace(/<([^<>]+)>/g, (_whole, inner: string) => {
    const [target = "", label] = inner.split("|", 2);
    if (target.startsWith("@")) return `@${label || names[target.slice(1)] || target.slice(1)}`;
    if (target.startsWith("#")) return `#${label || target.slice(1)}`;
    // <!here>, <!channel>; <!subteam^S1|@ops> and <!date^...|fallback> carry their own text.
    if (target.startsWith("!")) return label ?? `@${target.slice(1)}`;
    return label ? `${label} (${target})` : target;
  });
  const emoji = linked.replace(/:([a-z0-9_+-]+):/g, (code, name: string) => EMOJI[name] ?? code);
  return unescapeText(emoji);
}
