// Commands never call process.exit: they return, or throw CliExit with the code the
// contract gives. main.ts is the only place that turns it into an exit status.
export class CliExit extends Error {
  readonly code = "exit";
  constructor(
    readonly exitCode: number,
    message = "",
  ) {
    super(message);
  }
}
