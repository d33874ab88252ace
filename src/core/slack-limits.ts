// Slack's size limits for a message, in one place: what the bot builds stays within them and
// the emulator refuses what breaks them, the same way Slack does. Lengths are JavaScript string
// lengths (UTF-16 code units): never fewer than the characters Slack counts.

export const SLACK_LIMITS = {
  /** "You can include up to 50 blocks in each message": docs.slack.dev/reference/block-kit/blocks */
  blocksPerMessage: 50,
  /**
   * All the text of a message's blocks together. Slack answers `msg_blocks_too_long` ("Blocks
   * submitted with this message are too long", docs.slack.dev/reference/methods/chat.postMessage
   * errors) with no documented figure; the same page limits `markdown_text` to 12,000, and
   * refusals were measured from about 13,200 (slackapi/bolt-js#2509). 12,000 is the safe side.
   */
  blocksText: 12_000,
  /** A text object, mrkdwn or plain_text: 1 to 3,000 (docs.slack.dev/reference/block-kit/composition-objects/text-object). */
  textObject: 3000,
  /** A section's text: 3,000; its fields: 10 of 2,000 each (docs.slack.dev/reference/block-kit/blocks/section-block). */
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  /** A context block holds at most 10 elements (docs.slack.dev/reference/block-kit/blocks/context-block). */
  contextElements: 10,
  /** An actions block holds at most 25 elements (docs.slack.dev/reference/block-kit/blocks/actions-block). */
  actionsElements: 25,
  /** A header's plain_text: 150 (docs.slack.dev/reference/block-kit/blocks/header-block). */
  headerText: 150,
  /** A button: text 75, value 2,000, action_id 255, url 3,000 (docs.slack.dev/reference/block-kit/block-elements/button-element). */
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  buttonUrl: 3000,
  /** Any block's block_id: 255 (every block's page, e.g. docs.slack.dev/reference/block-kit/blocks/section-block). */
  blockId: 255,
  /**
   * A message's `text`: chat.postMessage truncates beyond 40,000 (api.slack.com/changelog/
   * 2018-04-truncating-really-long-messages); chat.update refuses beyond 4,000 with
   * `msg_too_long` ("The text field cannot exceed 4,000 characters": docs.slack.dev/reference/
   * methods/chat.update errors). What the bot posts stays under the smaller one.
   */
  messageText: 40_000,
  updateText: 4000,
} as const;

/** One way a message breaks Slack's limits, with the error Slack answers it with. */
export interface LimitProblem {
  error: "invalid_blocks" | "msg_blocks_too_long" | "msg_too_long";
  /** JSON-pointer-like path, as Slack's own `response_metadata.messages` name it. */
  at: string;
  detail: string;
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v && typeof v === "object" ? (v as Json) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/**
 * Every string under a `text` key, rich text included (whose elements have no documented limit
 * of their own): what Slack counts toward `msg_blocks_too_long`.
 */
export function blocksTextLength(blocks: unknown): number {
  if (Array.isArray(blocks)) return blocks.reduce((n: number, b) => n + blocksTextLength(b), 0);
  if (!blocks || typeof blocks !== "object") return 0;
  let n = 0;
  for (const [k, v] of Object.entries(blocks as Json)) n += k === "text" && typeof v === "string" ? v.length : blocksTextLength(v);
  return n;
}

/**
 * Where a message (`text` and `blocks`) breaks the limits above; empty when Slack would take it.
 * `method` picks the text limit: chat.update's is smaller than chat.postMessage's.
 */
export function messageLimitProblems(m: { text?: string; blocks?: unknown[] }, method: "post" | "update" = "post"): LimitProblem[] {
  const out: LimitProblem[] = [];
  const bad = (error: LimitProblem["error"], at: string, detail: string) => out.push({ error, at, detail });
  const over = (at: string, value: unknown, max: number, what: string, min = 0) => {
    const s = str(value);
    if (s === undefined) return;
    if (s.length > max) bad("invalid_blocks", at, `${what} is ${s.length} characters, more than ${max}`);
    else if (s.length < min) bad("invalid_blocks", at, `${what} is empty`);
  };
  const textMax = method === "update" ? SLACK_LIMITS.updateText : SLACK_LIMITS.messageText;
  if (m.text !== undefined && m.text.length > textMax) bad("msg_too_long", "/text", `text is ${m.text.length} characters, more than ${textMax}`);
  const blocks = m.blocks ?? [];
  if (blocks.length > SLACK_LIMITS.blocksPerMessage) bad("invalid_blocks", "/blocks", `${blocks.length} blocks, more than ${SLACK_LIMITS.blocksPerMessage}`);
  for (const [i, raw] of blocks.entries()) {
    const b = obj(raw);
    const at = `/blocks/${i}`;
    over(`${at}/block_id`, b.block_id, SLACK_LIMITS.blockId, "block_id");
    const elements = Array.isArray(b.elements) ? b.elements : [];
    switch (b.type) {
      case "section": {
        over(`${at}/text/text`, obj(b.text).text, SLACK_LIMITS.sectionText, "section text", 1);
        const fields = Array.isArray(b.fields) ? b.fields : [];
        if (fields.length > SLACK_LIMITS.sectionFields) bad("invalid_blocks", `${at}/fields`, `${fields.length} fields, more than ${SLACK_LIMITS.sectionFields}`);
        for (const [j, f] of fields.entries()) over(`${at}/fields/${j}/text`, obj(f).text, SLACK_LIMITS.sectionFieldText, "section field", 1);
        break;
      }
      case "header":
        over(`${at}/text/text`, obj(b.text).text, SLACK_LIMITS.headerText, "header text", 1);
        break;
      case "context":
        if (elements.length > SLACK_LIMITS.contextElements) bad("invalid_blocks", `${at}/elements`, `${elements.length} elements, more than ${SLACK_LIMITS.contextElements}`);
        for (const [j, e] of elements.entries()) over(`${at}/elements/${j}/text`, obj(e).text, SLACK_LIMITS.textObject, "context text", 1);
        break;
      case "actions":
        if (elements.length > SLACK_LIMITS.actionsElements) bad("invalid_blocks", `${at}/elements`, `${elements.length} elements, more than ${SLACK_LIMITS.actionsElements}`);
        for (const [j, e] of elements.entries()) {
          const el = obj(e);
          if (el.type !== "button") continue;
          over(`${at}/elements/${j}/text/text`, obj(el.text).text, SLACK_LIMITS.buttonText, "button text", 1);
          over(`${at}/elements/${j}/value`, el.value, SLACK_LIMITS.buttonValue, "button value");
          over(`${at}/elements/${j}/action_id`, el.action_id, SLACK_LIMITS.actionId, "action_id");
          over(`${at}/elements/${j}/url`, el.url, SLACK_LIMITS.buttonUrl, "button url");
        }
        break;
    }
  }
  const total = blocksTextLength(blocks);
  if (total > SLACK_LIMITS.blocksText) bad("msg_blocks_too_long", "/blocks", `${total} characters of block text, more than ${SLACK_LIMITS.blocksText}`);
  return out;
}
