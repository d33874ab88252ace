// `clawdbot doctor`: checks the whole setup, one line per check; exit 0 all pass, 1 warnings
// only, 2 a failure.
import { defineCommand } from "citty";
import { exitCodeOf, renderReport, runDoctor, setUpDoctor } from "../doctor/index.ts";
import { envFileArg } from "./_shared.ts";
import { CliExit } from "./exit.ts";

export default defineCommand({
  meta: { name: "doctor", description: "Check the whole setup (settings, Slack, store, ports, relay, agent, approvers): PASS, WARN or FAIL with the fix." },
  args: {
    ...envFileArg,
    json: { type: "boolean", description: "one JSON document {version, worst, checks: [{name, status, found, fix}]}", default: false },
  },
  async run({ args }) {
    const report = await runDoctor(setUpDoctor(process.env, args["env-file"]));
    console.log(args.json ? JSON.stringify(report, null, 2) : renderReport(report));
    const code = exitCodeOf(report.worst);
    if (code !== 0) throw new CliExit(code);
  },
});
