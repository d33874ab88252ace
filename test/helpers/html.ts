// Reading HTML as a person would, for the status page's tests.

/** The text a person reads in HTML (a page, a dumped DOM): tags dropped, entities decoded, spaces collapsed. */
export function visibleText(dom: string): string {
  return dom
    .replace(/<(script|style|title)[^>]*>[\s\S]*?<\/\1>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}
