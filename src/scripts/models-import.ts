// npm run models:import -- <folder> [--name NAME] [--version VERSION] [--link] [--models-dir DIR]
// Imports an export (Optimum, transformers.js or sentence-transformers layout) into the model
// repository after loading it, and prints what was read from which file. Exit 0: imported; 1: refused
// (the reason names the file and the fix); 2: usage or configuration.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.js';
import { ModelLoadError } from '../errors/errors.js';
import { formatReadFrom } from '../inference/model-folder/read-from.js';
import { ImportError, importModel } from '../inference/model-import.js';

const USAGE = 'usage: npm run models:import -- <folder> [--name NAME] [--version VERSION] [--link] [--models-dir DIR]';

function kib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: { name: { type: 'string' }, version: { type: 'string' }, link: { type: 'boolean', default: false }, 'models-dir': { type: 'string' } },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    return 2;
  }
  try {
    const report = await importModel({
      source: args.positionals[0]!,
      modelsDir: args.values['models-dir'] ?? config.MODELS_DIR,
      name: args.values.name,
      version: args.values.version,
      link: args.values.link,
      settings: config,
    });
    console.log(`imported ${report.name} -> ${report.destination} (${report.mode}, ${report.files} files, ${kib(report.bytes)})`);
    console.log(formatReadFrom(report.readFrom));
    const loads = report.loaded.map((l) => `${l.variant} ${l.file} (${l.ms} ms)`).join(', ');
    console.log(`loaded with onnxruntime, probe and warm-up inferences answered: ${loads}`);
    for (const w of report.warnings) console.log(`warning: ${w}`);
    if (args.values.version !== undefined) {
      console.log(`a running gateway loads it on its next reload (SIGHUP, or the watch); without a rollout.json the highest version serves`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ModelLoadError || e instanceof ImportError) {
      console.error(`not imported: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main();
