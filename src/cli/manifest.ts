// `clawdbot manifest`: the Slack app manifest this build needs, to paste into Slack's
// "Create New App → From a manifest". Made from src/slack/app-requirements.ts.
import { defineCommand } from "citty";
import { buildManifest, ManifestError, renderManifest } from "../slack/manifest.ts";
import { CliExit } from "./exit.ts";

export default defineCommand({
  meta: { name: "manifest", description: "Print the Slack app manifest this build needs (JSON by default)" },
  args: {
    json: { type: "boolean", description: "JSON (the default)" },
    yaml: { type: "boolean", description: "YAML instead of JSON" },
    name: { type: "string", description: "the app's and bot user's name (default clawdbot)" },
    "http-url": {
      type: "string",
      description: "http mode instead of Socket Mode: the public https URL of CLAWDBOT_HTTP_PORT's /slack/events",
    },
  },
  run({ args }) {
    if (args.json && args.yaml) throw new CliExit(2, "clawdbot manifest: pass --json or --yaml, not both");
    try {
      const manifest = buildManifest({ name: args.name, httpUrl: args["http-url"] });
      console.log(renderManifest(manifest, args.yaml ? "yaml" : "json"));
    } catch (err) {
      if (err instanceof ManifestError) throw new CliExit(2, `clawdbot manifest: ${err.message}`);
      throw err;
    }
  },
});
