import { expect, test } from "bun:test";
import { renderSlackText } from "../../src/sandbox/render.ts";

const names = { USANDBOX: "you", UBOT: "clawdbot" };

test("mentions by name, channels, specials and links as the Slack client shows them", () => {
  expect(renderSlackText("Paused by <@USANDBOX>. Ask <@UBOT> or <@UOTHER>", names)).toBe("Paused by @you. Ask @clawdbot or @UOTHER");
  expect(renderSlackText("<@U9|bob> in <#C1|general> and <#C2>", names)).toBe("@bob in #general and #C2");
  expect(renderSlackText("<!here> <!subteam^S1|@ops>", names)).toBe("@here @ops");
  expect(renderSlackText("see <https://x.example/a?b=1|the docs> or <https://y.example>", names)).toBe("see the docs (https://x.example/a?b=1) or https://y.example");
});

test("the shortcodes the bot uses become characters; unknown ones stay as typed", () => {
  expect(renderSlackText(":double_vertical_bar: Paused. :arrow_forward: Resumed. :warning: :heartbeat: :no_such_emoji:")).toBe(
    "⏸ Paused. ▶ Resumed. ⚠ ♥ :no_such_emoji:",
  );
});

test("&lt; &gt; &amp; are unescaped after the markup is read: escaped text is never a mention", () => {
  expect(renderSlackText("echo a &amp;&amp; echo &lt;b&gt; &lt;@UBOT&gt;", names)).toBe("echo a && echo <b> <@UBOT>");
  expect(renderSlackText("10:30:00 and a::b stay", names)).toBe("10:30:00 and a::b stay");
});
