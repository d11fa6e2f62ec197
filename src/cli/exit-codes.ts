// Exit codes of the gateway process and of every CLI command: part of the operator's contract
// (scripts and orchestrators branch on them). Documented in the README and in `nlp-gateway --help`.
export const ExitCode = {
  /** Done; for `serve`, stopped cleanly after SIGTERM/SIGINT. */
  OK: 0,
  /** An unexpected failure (a bug, or a fault outside the gateway); the log says what. */
  FAILURE: 1,
  /** Bad command-line arguments or configuration; the message names the option or variable. */
  USAGE: 2,
  /** The model repository cannot be served; the message names the folder and the problem. */
  MODELS_INVALID: 3,
  /** The server cannot listen on its address (in use, or not permitted). */
  CANNOT_LISTEN: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The table printed by `--help` and the README. */
export const EXIT_CODE_HELP = `Exit codes:
  0  done (serve: stopped cleanly after SIGTERM/SIGINT)
  1  unexpected failure (see the log)
  2  bad arguments or configuration (the message names the option or variable)
  3  the model repository cannot be served (the message names the folder and the problem)
  4  the server cannot listen on its address (in use or not permitted)`;
