// `nlp-gateway keys new <id> [model...]`: makes an API key. Prints the key (for the client, once; it is
// stored nowhere) and its entry for API_KEYS_FILE, which holds only the key's SHA-256 digest.
import type { Command } from 'commander';
import { newApiKey } from '../../access/new-api-key.js';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('API keys (docs/security.md)');
  keys
    .command('new')
    .description('make an API key and its entry for the keys file')
    .argument('<id>', 'the key id, logged and used for fair shares and rate limits (1-64 letters, digits, ".", "_", "-")')
    .argument('[models...]', 'models the key may call (default: every model)')
    .action((id: string, models: string[]) => {
      let made;
      try {
        made = newApiKey(id, models);
      } catch (e) {
        throw new CliError((e as Error).message, ExitCode.USAGE);
      }
      process.stdout.write(`key (give it to the client; it is shown once):\n  ${made.key}\nentry for API_KEYS_FILE (its "keys" array):\n  ${JSON.stringify(made.entry)}\n`);
    });
}
