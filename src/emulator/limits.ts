// Slack's limits on message content, each with the docs page it comes from. A refusal carries
// Slack's error code and, for invalid_blocks, the `response_metadata.messages` Slack sends
// ("[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]", the form
// Slack answers with, quoted in e.g. activepieces/activepieces#11149).

export interface Refusal {
  error: string;
  messages?: string[];
}

/** https://docs.slack.dev/reference/block-kit/blocks: "up to 50 blocks in each message". */
export const MAX_BLOCKS = 50;
/**
 * All text in a message's blocks together. Undocumented; a Slack engineer gave "12,000 text
 * characters with a buffer for block containers" (slackapi/bolt-js#2509), matching the
 * markdown block's cumulative 12,000 (https://docs.slack.dev/reference/block-kit/blocks/markdown-block).
 * Beyond it: msg_blocks_too_long (https://docs.slack.dev/reference/methods/chat.postMessage).
 */
export const MAX_BLOCKS_TEXT = 12_000;
/** https://docs.slack.dev/reference/methods/chat.postMessage#truncating: truncated beyond this. */
export const MAX_TEXT = 40_000;
/** https://docs.slack.dev/reference/methods/chat.update: msg_too_long, "cannot exceed 4,000 characters". */
export const MAX_UPDATE_TEXT = 4_000;
/** markdown_text of chat.postMessage and the stream methods: "Limit this field to 12,000 characters". */
export const MAX_MARKDOWN_TEXT = 12_000;
/** https://docs.slack.dev/reference/methods/chat.postMessage: too_many_attachments beyond 100. */
export const MAX_ATTACHMENTS = 100;

/** Per field, from the page of each block and element (docs.slack.dev/reference/block-kit/...). */
const L = {
  blockId: 255, // every block: "Maximum length for this field is 255 characters"
  textObject: 3000, // composition-objects/text-object
  sectionText: 3000, // blocks/section-block: text "maximum length is 3000 characters"
  sectionFields: 10, // blocks/section-block: fields "Maximum number of items is 10"
  sectionFieldText: 2000, // blocks/section-block: "Maximum length for the text in each item is 2000"
  headerText: 150, // blocks/header-block
  contextElements: 10, // blocks/context-block: "Maximum number of items is 10"
  actionsElements: 25, // blocks/actions-block: "maximum of 25 elements"
  markdownText: 12_000, // blocks/markdown-block
  buttonText: 75, // block-elements/button-element
  buttonValue: 2000,
  buttonUrl: 3000,
  actionId: 255,
  accessibilityLabel: 75,
  confirmTitle: 100, // composition-objects/confirmation-dialog-object
  confirmText: 300,
  confirmButton: 30,
  imageAltText: 2000, // block-elements/image-element
};

class Bad extends Error {}

function fail(message: string, path: string): never {
  throw new Bad(`[ERROR] ${message} [json-pointer:${path}]`);
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

function str(v: unknown, path: string, max: number, required = true): void {
  if (v === undefined && !required) return;
  if (typeof v !== "string") fail("must be a string", path);
  if (required && v.length === 0) fail("must be more than 0 characters", path);
  if (v.length > max) fail(`must be less than ${max + 1} characters`, path);
}

function textObject(v: unknown, path: string, max: number, plainOnly = false): void {
  if (!isObj(v)) fail("must be an object", path);
  const types = plainOnly ? ["plain_text"] : ["plain_text", "mrkdwn"];
  if (!types.includes(String(v.type))) fail(`must be one of [${types.join(", ")}]`, `${path}/type`);
  str(v.text, `${path}/text`, Math.min(max, L.textObject));
}

function list(v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v)) fail("must be an array", path);
  if (v.length === 0) fail("must provide at least 1 item", path);
  if (v.length > max) fail(`must provide no more than ${max} items`, path);
  return v;
}

function confirm(v: unknown, path: string): void {
  if (v === undefined) return;
  if (!isObj(v)) fail("must be an object", path);
  if (v.title !== undefined) textObject(v.title, `${path}/title`, L.confirmTitle, true);
  textObject(v.text, `${path}/text`, L.confirmText);
  if (v.confirm !== undefined) textObject(v.confirm, `${path}/confirm`, L.confirmButton, true);
  if (v.deny !== undefined) textObject(v.deny, `${path}/deny`, L.confirmButton, true);
}

function interactive(v: unknown, path: string): void {
  if (!isObj(v) || typeof v.type !== "string") fail("missing required field: type", `${path}/type`);
  str(v.action_id, `${path}/action_id`, L.actionId, false);
  confirm(v.confirm, `${path}/confirm`);
  if (v.type !== "button") return;
  textObject(v.text, `${path}/text`, L.buttonText, true);
  str(v.value, `${path}/value`, L.buttonValue, false);
  str(v.url, `${path}/url`, L.buttonUrl, false);
  str(v.accessibility_label, `${path}/accessibility_label`, L.accessibilityLabel, false);
  if (v.style !== undefined && v.style !== "primary" && v.style !== "danger") fail("must be one of [primary, danger]", `${path}/style`);
}

function imageElement(v: Record<string, unknown>, path: string): void {
  str(v.alt_text, `${path}/alt_text`, L.imageAltText);
  if (typeof v.image_url !== "string" && !isObj(v.slack_file)) fail("missing required field: image_url", path);
}

const RICH_CONTAINERS = new Set(["rich_text_section", "rich_text_list", "rich_text_preformatted", "rich_text_quote"]);

function richText(v: Record<string, unknown>, path: string): void {
  for (const [i, el] of list(v.elements, `${path}/elements`, Number.POSITIVE_INFINITY).entries()) {
    const p = `${path}/elements/${i}`;
    if (!isObj(el) || !RICH_CONTAINERS.has(String(el.type))) fail(`must be one of [${[...RICH_CONTAINERS].join(", ")}]`, `${p}/type`);
    if (!Array.isArray(el.elements)) fail("must be an array", `${p}/elements`);
    for (const [j, inner] of (el.elements as unknown[]).entries()) {
      const q = `${p}/elements/${j}`;
      if (!isObj(inner) || typeof inner.type !== "string") fail("missing required field: type", `${q}/type`);
      if (el.type === "rich_text_list") {
        if (inner.type !== "rich_text_section") fail("must be one of [rich_text_section]", `${q}/type`);
        if (!Array.isArray(inner.elements)) fail("must be an array", `${q}/elements`);
      } else if (inner.type === "text" && typeof inner.text !== "string") fail("missing required field: text", `${q}/text`);
    }
  }
}

function block(b: unknown, path: string): void {
  if (!isObj(b) || typeof b.type !== "string") fail("missing required field: type", `${path}/type`);
  str(b.block_id, `${path}/block_id`, L.blockId, false);
  switch (b.type) {
    case "section": {
      if (b.text === undefined && b.fields === undefined) fail("must provide either text or fields", path);
      if (b.text !== undefined) textObject(b.text, `${path}/text`, L.sectionText);
      if (b.fields !== undefined) {
        for (const [i, f] of list(b.fields, `${path}/fields`, L.sectionFields).entries()) {
          textObject(f, `${path}/fields/${i}`, L.sectionFieldText);
        }
      }
      if (b.accessory !== undefined) {
        if (isObj(b.accessory) && b.accessory.type === "image") imageElement(b.accessory, `${path}/accessory`);
        else interactive(b.accessory, `${path}/accessory`);
      }
      return;
    }
    case "header":
      return textObject(b.text, `${path}/text`, L.headerText, true);
    case "context":
      for (const [i, el] of list(b.elements, `${path}/elements`, L.contextElements).entries()) {
        const p = `${path}/elements/${i}`;
        if (isObj(el) && el.type === "image") imageElement(el, p);
        else textObject(el, p, L.textObject);
      }
      return;
    case "actions":
      for (const [i, el] of list(b.elements, `${path}/elements`, L.actionsElements).entries()) interactive(el, `${path}/elements/${i}`);
      return;
    case "divider":
      return;
    case "rich_text":
      return richText(b, path);
    case "markdown":
      return str(b.text, `${path}/text`, L.markdownText);
    case "image":
      return imageElement(b, path);
    default:
      // Other block types (file, video, table, ...) the bot does not use: not checked further.
      return;
  }
}

/** Every string under a `text` key: what Slack counts towards msg_blocks_too_long. */
export function blocksTextLength(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + blocksTextLength(x), 0);
  if (!isObj(v)) return 0;
  let n = 0;
  for (const [k, x] of Object.entries(v)) n += k === "text" && typeof x === "string" ? x.length : blocksTextLength(x);
  return n;
}

/**
 * Checks a `blocks` argument as Slack does. `tooMany` is the method's documented error for more
 * than 50 blocks: the stream methods list msg_blocks_too_many, the others answer invalid_blocks.
 */
export function checkBlocks(blocks: unknown, tooMany: "invalid_blocks" | "msg_blocks_too_many" = "invalid_blocks"): Refusal | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return { error: "invalid_blocks_format" };
  if (blocks.length > MAX_BLOCKS) {
    const msg = `[ERROR] must provide no more than ${MAX_BLOCKS} items [json-pointer:/blocks]`;
    return tooMany === "invalid_blocks" ? { error: tooMany, messages: [msg] } : { error: tooMany };
  }
  try {
    for (const [i, b] of blocks.entries()) block(b, `/blocks/${i}`);
  } catch (e) {
    if (e instanceof Bad) return { error: "invalid_blocks", messages: [e.message] };
    throw e;
  }
  if (blocksTextLength(blocks) > MAX_BLOCKS_TEXT) return { error: "msg_blocks_too_long" };
  return undefined;
}

/** markdown_text beyond its 12,000: the docs give no code, so the generic invalid_arguments. */
export function checkMarkdownText(v: unknown): Refusal | undefined {
  if (typeof v !== "string" || v.length <= MAX_MARKDOWN_TEXT) return undefined;
  return {
    error: "invalid_arguments",
    messages: [`[ERROR] must be less than ${MAX_MARKDOWN_TEXT + 1} characters [json-pointer:/markdown_text]`],
  };
}
