// Every bad setting at once, one line each; the token settings are the tokens check's.
import { type ConfigError, configWarnings } from "../../config.ts";
import { type Check, type CheckResult, fail, pass, warn } from "../types.ts";
import { TOKEN_SETTINGS } from "./tokens.ts";

const NAME = "settings";

/** "X: problem; what to do" → the problem and the fix (the config's messages all read so). */
function split(message: string): { found: string; fix: string } {
  const i = message.indexOf("; ");
  return i < 0 ? { found: message, fix: "correct it" } : { found: message.slice(0, i), fix: message.slice(i + 2) };
}

export const settingsCheck: Check = {
  name: NAME,
  async run(ctx) {
    const own = ctx.problems.filter((p: ConfigError) => !TOKEN_SETTINGS.includes(p.setting));
    const out: CheckResult[] = own.map((p) => {
      const { found, fix } = split(p.message);
      return fail(NAME, found, fix);
    });
    for (const w of configWarnings(ctx.config)) {
      const { found, fix } = split(w);
      out.push(warn(NAME, found, fix));
    }
    if (out.length > 0) return out;
    const c = ctx.config;
    return [pass(NAME, `valid: ${c.mode} mode, ${c.agent} agent, data dir ${c.dataDir}`)];
  },
};
