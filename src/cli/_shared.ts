// Argument fragments shared by commands.
export const envFileArg = {
  "env-file": { type: "string", description: "read settings from this KEY=VALUE file (the environment wins)" },
} as const;
