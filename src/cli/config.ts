// The gateway's configuration for a CLI command: the same variables and checks as the server, with
// command-line options laid over the environment (so a bad option is reported like a bad variable).
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';

export function commandConfig(overrides: Record<string, string | undefined> = {}): Config {
  const env = { ...process.env };
  for (const [name, value] of Object.entries(overrides)) if (value !== undefined) env[name] = value;
  try {
    return loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message, ExitCode.USAGE);
    throw e;
  }
}
