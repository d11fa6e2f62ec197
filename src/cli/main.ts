#!/usr/bin/env node
// The `nlp-gateway` executable (package.json `bin`). Maps every outcome to a documented exit code.
import { CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import { buildProgram } from './program.js';

// Output piped into a reader that stops early (`nlp-gateway --help | head`) is not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.OK);
    throw e;
  });
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander has printed the help, the version or the usage error already.
    process.exitCode = e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  } else if (e instanceof CliError) {
    process.stderr.write(`nlp-gateway: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`nlp-gateway: unexpected failure: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = ExitCode.FAILURE;
  }
}
