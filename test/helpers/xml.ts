// A small XML reader for the tests: elements, attributes, text and the five predefined
// entities; enough to check the Task Scheduler XML we write (no DTDs, no CDATA).
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const decode = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e: string) =>
    e.startsWith("#x") ? String.fromCodePoint(Number.parseInt(e.slice(2), 16)) : e.startsWith("#") ? String.fromCodePoint(Number(e.slice(1))) : (ENTITIES[e] as string),
  );

export function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`XML: ${why} at offset ${i}: ${JSON.stringify(src.slice(i, i + 30))}`);
  };
  const skipMisc = () => {
    for (;;) {
      while (/\s/.test(src[i] ?? "")) i++;
      if (src.startsWith("<?", i)) i = src.indexOf("?>", i) + 2 || fail("unclosed <?");
      else if (src.startsWith("<!--", i)) i = src.indexOf("-->", i) + 3 || fail("unclosed comment");
      else return;
    }
  };
  const element = (): XmlElement => {
    const open = /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*"[^"]*")*)\s*(\/?)>/.exec(src.slice(i));
    if (!open) return fail("expected an element");
    i += open[0].length;
    const attrs: Record<string, string> = {};
    for (const m of (open[2] ?? "").matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*"([^"]*)"/g)) attrs[m[1] as string] = decode(m[2] as string);
    const el: XmlElement = { name: open[1] as string, attrs, children: [], text: "" };
    if (open[3]) return el;
    for (;;) {
      const lt = src.indexOf("<", i);
      if (lt < 0) fail(`unclosed <${el.name}>`);
      el.text += decode(src.slice(i, lt));
      i = lt;
      if (src.startsWith("<!--", i)) {
        i = src.indexOf("-->", i) + 3;
        continue;
      }
      if (src.startsWith("</", i)) {
        const close = /^<\/([A-Za-z_][\w.-]*)\s*>/.exec(src.slice(i));
        if (!close || close[1] !== el.name) fail(`expected </${el.name}>`);
        i += (close as RegExpExecArray)[0].length;
        if (el.children.length) el.text = el.text.trim() === "" ? "" : fail(`mixed content in <${el.name}>`);
        return el;
      }
      el.children.push(element());
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== src.length) fail("content after the root element");
  return root;
}

/** The one child called `name` (throws when there is none or more than one). */
export function child(el: XmlElement, name: string): XmlElement {
  const found = el.children.filter((c) => c.name === name);
  if (found.length !== 1) throw new Error(`<${el.name}> has ${found.length} <${name}>`);
  return found[0] as XmlElement;
}

/** The text at a path of single children: text(task, "Settings", "ExecutionTimeLimit"). */
export function text(el: XmlElement, ...path: string[]): string {
  return path.reduce((e, n) => child(e, n), el).text;
}
