// Run by hand: `bun bench/text.ts`. The cost of what every long answer and every card pays:
// escaping an agent's answer, splitting it into parts (graphemes and fences tracked), and
// building a card for a huge command. Pure functions, no I/O.
import { buildCard } from "../src/core/cards.ts";
import { formatAnswer, splitText } from "../src/core/text.ts";

const time = (runs: number, fn: () => unknown) => {
  fn();
  const t = performance.now();
  for (let i = 0; i < runs; i++) fn();
  return (performance.now() - t) / runs;
};

const line = (i: number) => `  if (a < ${i} && b > 0) { return Promise<void>; } // 😀 <@U0123ABC> line ${i}`;
for (const lines of [500, 2500]) {
  const answer = `Here:\n\`\`\`ts\n${Array.from({ length: lines }, (_, i) => line(i)).join("\n")}\n\`\`\`\nDone.`;
  const escaped = formatAnswer(answer);
  const parts = splitText(escaped).length;
  console.log(
    `${answer.length.toLocaleString("en-US")}-character code answer: formatAnswer ${time(20, () => formatAnswer(answer)).toFixed(2)} ms, ` +
      `splitText ${time(20, () => splitText(escaped)).toFixed(2)} ms (${parts} parts)`,
  );
}
const command = Array.from({ length: 2000 }, (_, i) => `echo line ${i} && printf '%s' "<${i}>" # ${"x".repeat(20)}`).join("\n");
const view = { id: "ap_0123456789ab", kind: "exec" as const, text: command, reason: "r".repeat(10_000), requestedBy: "U1", status: "pending" as const };
console.log(`buildCard, ${command.length.toLocaleString("en-US")}-character command: ${time(50, () => buildCard(view)).toFixed(2)} ms`);
