// `nlp-gateway bench`: the batching benchmark (test/bench/run.mjs, in a checkout of the repository),
// with its options passed through. It loads the machine for minutes: run it on a quiet machine.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';

const RUN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/bench/run.mjs');

/** The usage block at the top of run.mjs (its own --help prints the same). */
function benchUsage(): string {
  if (!existsSync(RUN)) return '';
  const header = readFileSync(RUN, 'utf8').split('\n').slice(0, 8);
  return `\nBenchmark options (see test/bench/README.md):\n${header.map((l) => l.replace(/^\/\/ ?/, '  ')).join('\n')}`;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure throughput and latency against the raw onnxruntime limit and a peer server (minutes; needs the repository checkout)')
    .argument('[args...]', 'options of test/bench/run.mjs, e.g. --quick --models spam-bert')
    .allowUnknownOption()
    .helpOption('-h, --help', 'show this help')
    .addHelpText('after', benchUsage)
    .action(async (args: string[]) => {
      if (!existsSync(RUN)) throw new CliError(`the benchmark is not here (${RUN}); run it from a checkout of the repository`, ExitCode.USAGE);
      const child = spawn(process.execPath, [RUN, ...args], { stdio: 'inherit' });
      const code = await new Promise<number>((resolve) => child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
      if (code !== 0) throw new CliError(`the benchmark failed (exit code ${code})`, ExitCode.FAILURE);
    });
}
