// The `nlp-gateway` command line: one program, a module per command.
import { Command } from 'commander';
import { GATEWAY_VERSION } from '../version.js';
import { registerBench } from './commands/bench.js';
import { registerKeys } from './commands/keys.js';
import { registerModels } from './commands/models.js';
import { registerServe } from './commands/serve.js';
import { EXIT_CODE_HELP } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command('nlp-gateway')
    .description('GraphQL gateway for NLP models (text classification, embeddings) on ONNX Runtime')
    .version(GATEWAY_VERSION, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `\nConfiguration comes from environment variables (README: Configuration).\n\n${EXIT_CODE_HELP}`);
  registerServe(program);
  registerModels(program);
  registerKeys(program);
  registerBench(program);
  // Every command's usage errors exit 2 (commander would exit 1); --help and --version exit 0.
  program.exitOverride();
  for (const command of program.commands.flatMap((c) => [c, ...c.commands])) command.exitOverride();
  return program;
}
