// What the bot says, as Slack reads it: the agent's text escaped (no broadcast ever), long
// answers split into parts that each render, and a command's hidden characters written out.
import { describe, expect, test } from "bun:test";
import { clipMrkdwn, formatAnswer, revealHidden, splitParts, splitText, unescapeSlack } from "../../src/core/text.ts";

/** A small seeded PRNG: the random inputs are the same on every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T };
}

describe("formatAnswer", () => {
  test("the agent's &, < and > show as written", () => {
    const said = "Returns Promise<void>; needs #include <stdio.h>; run a && b > out";
    const posted = formatAnswer(said);
    expect(posted).toBe("Returns Promise&lt;void&gt;; needs #include &lt;stdio.h&gt;; run a &amp;&amp; b &gt; out");
    expect(unescapeSlack(posted)).toBe(said);
    // An entity the agent writes is shown as written too, not decoded.
    expect(unescapeSlack(formatAnswer("write &amp; for &"))).toBe("write &amp; for &");
  });

  test("broadcast mentions from an agent notify nobody", () => {
    for (const broadcast of ["<!channel>", "<!here>", "<!everyone>", "<!here|here>", "<!channel|@channel>", "<!subteam^S0123|@oncall>", "<!date^1392734382^{date}|x>"]) {
      const posted = formatAnswer(`hey ${broadcast} look`);
      expect(posted).not.toContain("<");
      expect(unescapeSlack(posted)).toBe(`hey ${broadcast} look`);
    }
  });

  test("user mentions, channel links and links the agent writes keep working; inside code they are text", () => {
    const said = "ask <@U0123ABC> in <#C0456|general>, see <https://example.com/q?a=1&b=2|the docs & more> or <mailto:ops@example.com>";
    expect(formatAnswer(said)).toBe(
      "ask <@U0123ABC> in <#C0456|general>, see <https://example.com/q?a=1&amp;b=2|the docs &amp; more> or <mailto:ops@example.com>",
    );
    expect(formatAnswer("`<@U0123ABC>` and\n```\n<https://example.com> <!here>\n```")).toBe(
      "`&lt;@U0123ABC&gt;` and\n```\n&lt;https://example.com&gt; &lt;!here&gt;\n```",
    );
    // A look-alike with a broadcast inside is not a kept token.
    expect(formatAnswer("<https://x.io|<!channel>>")).not.toContain("<!");
  });

  test("markdown stays readable: bold, code spans and fences are left as written", () => {
    const said = "*Bold* and _italic_, `x => x < 1`, and\n```ts\nconst ok = a < b && c > d;\n```\ndone";
    const posted = formatAnswer(said);
    expect(posted).toContain("*Bold* and _italic_, `x =&gt; x &lt; 1`");
    expect(posted).toContain("```ts\nconst ok = a &lt; b &amp;&amp; c &gt; d;\n```");
    expect(unescapeSlack(posted)).toBe(said);
  });

  test("an unclosed fence or a stray backtick escapes the rest like code, losing nothing", () => {
    expect(formatAnswer("a ` <b>\n```\n<@U1> & c")).toBe("a ` &lt;b&gt;\n```\n&lt;@U1&gt; &amp; c");
  });
});

/** Cut positions: where one part's body ends and the next begins. */
const cutsOf = (parts: { body: string }[]) => {
  const cuts: number[] = [];
  let at = 0;
  for (const p of parts.slice(0, -1)) {
    at += p.body.length;
    cuts.push(at);
  }
  return cuts;
};
const fenceCount = (s: string) => s.split("```").length - 1;
const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });

/** Nothing that must stay whole is cut: entities, <...> tokens, characters (emoji sequences too). */
function expectWholeAtoms(text: string, cuts: number[]) {
  const inside = new Set<number>();
  for (const m of text.matchAll(/&(?:amp|lt|gt);|<[^<>\n]*>/g)) for (let i = m.index + 1; i < m.index + m[0].length; i++) inside.add(i);
  for (const g of segmenter.segment(text)) for (let i = g.index + 1; i < g.index + g.segment.length; i++) inside.add(i);
  for (const c of cuts) expect({ cut: c, around: text.slice(c - 8, c + 8), inside: inside.has(c) }).toMatchObject({ inside: false });
}

describe("splitText", () => {
  test("a short answer is one part, unchanged", () => {
    expect(splitText("hello")).toEqual(["hello"]);
  });

  test("cuts at line breaks, and a fence open at a cut is closed and reopened with its language", () => {
    const code = Array.from({ length: 600 }, (_, i) => `  const v${i} = a &lt; b &amp;&amp; c; // line ${i}`).join("\n");
    const text = formatAnswer("Here is the file:\n```ts\n") + code + "\n```\nThat is all.";
    const parts = splitParts(text);
    expect(parts.length).toBeGreaterThan(5);
    const whole = parts.map((p) => p.open + p.body + p.close);
    for (const [i, p] of whole.entries()) {
      expect(p.length).toBeLessThanOrEqual(3900);
      expect(fenceCount(p) % 2).toBe(0);
      if (i > 0) expect(p.startsWith("```ts\n")).toBe(true);
      if (i < whole.length - 1) expect(p.endsWith("\n```")).toBe(true);
    }
    // Every cut is at a line break: no code line is broken in two.
    for (const p of parts.slice(0, -1)) expect(p.body.endsWith("\n")).toBe(true);
    expect(parts.map((p) => p.body).join("")).toBe(text);
  });

  test("a long paragraph is cut at spaces; a short first line does not make a tiny first part", () => {
    const text = `Sure!\n\n${"word ".repeat(2000)}`;
    const parts = splitText(text, 1000);
    expect(parts[0]?.startsWith("Sure!\n\nword")).toBe(true);
    for (const p of parts.slice(0, -1)) {
      expect(p.length).toBeGreaterThan(600);
      expect(p.endsWith(" ")).toBe(true);
    }
    expect(parts.join("")).toBe(text);
  });

  test("one enormous line is cut hard, never inside an entity, a token or an emoji", () => {
    for (const text of [
      "&amp;&lt;&gt;".repeat(1000),
      "😀".repeat(3000),
      "👨‍👩‍👧🇫🇷é\u0301".repeat(700),
      "<@U0123ABC><https://example.com/a|b>".repeat(300),
    ]) {
      const parts = splitParts(text, 997);
      for (const p of parts) expect(p.body.length).toBeLessThanOrEqual(997);
      expect(parts.map((p) => p.body).join("")).toBe(text);
      expectWholeAtoms(text, cutsOf(parts));
    }
  });

  test("property: random answers with fences: every part within the limit, fences balanced, nothing lost or cut apart", () => {
    const r = rng(8);
    const langs = ["", "", "ts", "python", "c++", "sh"];
    const words = ["a", "Promise<void>", "x && y", "<!channel>", "<@U0123ABC>", "<https://example.com/p?q=1&r=2|docs>", "😀", "👨‍👩‍👧", "🇯🇵", "é\u0301", "`span`", "*bold*", "&amp;"];
    const line = () => {
      if (r.next() < 0.05) return "z".repeat(200 + r.int(900)); // one long unbroken line
      return Array.from({ length: r.int(14) }, () => r.pick(words)).join(r.next() < 0.9 ? " " : "");
    };
    for (let run = 0; run < 250; run++) {
      const lines: string[] = [];
      for (let n = r.int(80); n > 0; n--) {
        if (r.next() < 0.12) {
          lines.push(`\`\`\`${r.pick(langs)}`);
          for (let k = r.int(30); k > 0; k--) lines.push(line());
          lines.push("```");
        } else lines.push(line());
      }
      const text = formatAnswer(lines.join("\n"));
      const max = 120 + r.int(900);
      const parts = splitParts(text, max);
      const ctx = { run, max };
      expect({ ...ctx, joined: parts.map((p) => p.body).join("") === text }).toEqual({ ...ctx, joined: true });
      for (const p of parts) {
        const whole = p.open + p.body + p.close;
        expect({ ...ctx, over: whole.length > max, unbalanced: fenceCount(whole) % 2 }).toEqual({ ...ctx, over: false, unbalanced: 0 });
      }
      expectWholeAtoms(text, cutsOf(parts));
    }
  });
});

describe("clipMrkdwn", () => {
  test("bounds escaped text with an ellipsis, never inside an entity, a token or a character", () => {
    expect(clipMrkdwn("short", 10)).toBe("short");
    expect(clipMrkdwn(`${"a".repeat(10)}&amp;&amp;`, 14)).toBe(`${"a".repeat(10)}…`);
    expect(clipMrkdwn("ab<@U0123ABC> tail", 8)).toBe("ab…");
    expect(clipMrkdwn("😀😀😀", 4)).toBe("😀…");
    expect(clipMrkdwn("abc\\u200bdef", 7)).toBe("abc…");
  });
});

/** Reads the escapes back: the test's proof that the escaped form is unambiguous. */
const decode = (s: string) =>
  s.replace(/\\u\{([0-9a-f]+)\}|\\u([0-9a-f]{4})/g, (_, astral?: string, bmp?: string) =>
    astral ? String.fromCodePoint(Number.parseInt(astral, 16)) : String.fromCharCode(Number.parseInt(bmp as string, 16)),
  );

describe("revealHidden", () => {
  const HIDDEN_NOW = /(?![\n\t ])[\p{Cc}\p{Cf}\p{Cs}\p{Z}\p{Default_Ignorable_Code_Point}]/u;

  test("a zero-width space before # is shown: the approver sees that the rest is not a comment", () => {
    const shown = revealHidden("echo checking disk \u200b#; touch x");
    expect(shown).toBe("echo checking disk \\u200b#; touch x");
  });

  test("every control, format and bidi character is written out; \\n, \\t and spaces stay", () => {
    const hidden = [
      ...Array.from({ length: 32 }, (_, i) => i).filter((c) => c !== 0x0a && c !== 0x09),
      0x7f,
      0x80,
      0x9b,
      0x9f,
      0xad,
      0xa0,
      0x200b,
      0x200c,
      0x200d,
      0x200e,
      0x200f,
      0x202a,
      0x202b,
      0x202c,
      0x202d,
      0x202e,
      0x2060,
      0x2061,
      0x2062,
      0x2063,
      0x2064,
      0x2066,
      0x2067,
      0x2068,
      0x2069,
      0xfeff,
      0x2028,
      0x2029,
      0x3000,
      0x3164,
      0x2800,
      0x061c,
      0xfe0f,
      0xe0041,
      0xe007f,
    ];
    for (const cp of hidden) {
      const ch = String.fromCodePoint(cp);
      const shown = revealHidden(`a${ch}b`);
      expect({ cp: cp.toString(16), shown }).toEqual({
        cp: cp.toString(16),
        shown: cp > 0xffff ? `a\\u{${cp.toString(16)}}b` : `a\\u${cp.toString(16).padStart(4, "0")}b`,
      });
    }
    expect(revealHidden("a\u202eexe.txt")).toBe("a\\u202eexe.txt");
    expect(revealHidden("lone \ud800 and \udc00")).toBe("lone \\ud800 and \\udc00");
    expect(revealHidden("line 1\n\tline 2 é 😀 👍🏽")).toBe("line 1\n\tline 2 é 😀 👍🏽");
  });

  test("a typed \\u can't pass for an escape: it is shown as \\u005cu", () => {
    expect(revealHidden("printf '\\u200b'")).toBe("printf '\\u005cu200b'");
    expect(revealHidden("printf '\\u200b'")).not.toBe(revealHidden("printf '\u200b'"));
    expect(revealHidden("C:\\users\\x")).toBe("C:\\u005cusers\\x");
  });

  test("property: the shown form holds no hidden character and reads back to exactly the command", () => {
    const r = rng(10);
    const pieces = ["\\", "u", "\\u", "200b", "{", "}", "e", "0", "\u200b", "\u202e", "\u00a0", "\r", "\n", "\t", "\ud800", "😀", "ls -la", " ", "#"];
    for (let run = 0; run < 2000; run++) {
      const command = Array.from({ length: r.int(20) }, () => r.pick(pieces)).join("");
      const shown = revealHidden(command);
      expect(HIDDEN_NOW.test(shown)).toBe(false);
      expect({ command, back: decode(shown) }).toEqual({ command, back: command });
    }
  });
});
