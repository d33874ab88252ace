// The health port: free (a bot would start), or a running clawdbot answering there, or taken
// by something else (a bot could not start: `run` binds it first and exits 2).
import { defaultHealthUrl, probeHealth } from "../../cli/health.ts";
import { type Check, errText, fail, pass, secs, warn } from "../types.ts";

const NAME = "health-port";

/** Whether this process could listen there: null if it could, else the reason. */
function bindError(host: string, port: number): { code: string; message: string } | null {
  try {
    Bun.listen({ hostname: host.replace(/^\[(.*)\]$/, "$1"), port, socket: { data() {} } }).stop(true);
    return null;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === "string" ? code : "error", message: errText(err) };
  }
}

export const healthPortCheck: Check = {
  name: NAME,
  needs: ["CLAWDBOT_HEALTH_HOST", "CLAWDBOT_HEALTH_PORT"],
  async run(ctx) {
    const { healthHost: host, healthPort: port } = ctx.config;
    if (port === 0) return [pass(NAME, "CLAWDBOT_HEALTH_PORT is 0: the bot takes any free port")];
    const where = `${host}:${port}`;
    const u = defaultHealthUrl(ctx.env);
    if ("error" in u) return [fail(NAME, u.error, "set CLAWDBOT_HEALTH_PORT to a free TCP port")];
    const other = "stop the program that holds it, or set CLAWDBOT_HEALTH_PORT to a free port (and point the watchdog's `clawdbot health` at it)";
    const probe = await probeHealth(u.url, ctx.timeoutMs);
    const status = String(probe.json.status);
    if (probe.exitCode === 0) return [pass(NAME, `${where} is in use by a running clawdbot answering ok: a bot is running`)];
    if (status === "unreachable") {
      const bind = bindError(host, port);
      if (!bind) return [pass(NAME, `${where} is free: a bot would start`)];
      if (bind.code === "EADDRINUSE") return [fail(NAME, `${where} is in use by a program that does not answer HTTP`, other)];
      return [fail(NAME, `cannot listen on ${where}: ${bind.message}`, "set CLAWDBOT_HEALTH_HOST to an address of this machine (127.0.0.1) and CLAWDBOT_HEALTH_PORT to a port above 1024")];
    }
    if (status === "timeout") return [fail(NAME, `${where} is held by something that does not answer within ${secs(ctx.timeoutMs)}`, other)];
    if (status === "invalid") return [fail(NAME, `${where} is in use by something that is not clawdbot (${probe.line.replace(/^CRIT: /, "")})`, other)];
    // A clawdbot answering, not ok (starting, disconnected, stale, revoked): it runs, and says why.
    const reason = typeof probe.json.reason === "string" && probe.json.reason ? `: ${probe.json.reason}` : "";
    return [warn(NAME, `${where} is in use by a running clawdbot that reports ${status}${reason}`, "see `clawdbot health` and the bot's log (`clawdbot logs`)")];
  },
};
