// `nlp-gateway models import <folder>`: puts an export (Optimum, transformers.js or sentence-transformers
// layout) into the model repository after loading it, and prints what was read from which file. A
// refused export exits 3 with the reason naming the file and the fix.
import type { Command } from 'commander';
import { ModelLoadError } from '../../errors/errors.js';
import { formatReadFrom } from '../../inference/model-folder/read-from.js';
import { ImportError, importModel } from '../../inference/model-import.js';
import { CliError } from '../cli-error.js';
import { commandConfig } from '../config.js';
import { ExitCode } from '../exit-codes.js';

function kib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

interface ImportFlags {
  name?: string;
  version?: string;
  link?: boolean;
  dir?: string;
}

export function registerModelsImport(models: Command): void {
  models
    .command('import')
    .description('copy (or link) an exported model into the repository, after loading it as the gateway would')
    .argument('<folder>', 'the export: config.json, tokenizer files and model.onnx (top or onnx/)')
    .option('-n, --name <name>', 'model name (default: the folder name)')
    .option('-v, --version <version>', 'import as a new version <name>/<version>/ beside the others (docs/models.md)')
    .option('--link', 'link the files instead of copying them')
    .option('-d, --dir <dir>', 'model repository (MODELS_DIR; default models/ of this repository)')
    .addHelpText('after', '\nExits 0 when imported, 3 (with the file and the fix) when the export cannot be served.')
    .action(async (folder: string, flags: ImportFlags) => {
      const config = commandConfig({ MODELS_DIR: flags.dir });
      const say = (line: string) => process.stdout.write(`${line}\n`);
      let report;
      try {
        report = await importModel({ source: folder, modelsDir: config.MODELS_DIR, name: flags.name, version: flags.version, link: flags.link ?? false, settings: config });
      } catch (e) {
        if (e instanceof ModelLoadError || e instanceof ImportError) throw new CliError(`not imported: ${e.message}`, ExitCode.MODELS_INVALID);
        throw e;
      }
      say(`imported ${report.name} -> ${report.destination} (${report.mode}, ${report.files} files, ${kib(report.bytes)})`);
      say(formatReadFrom(report.readFrom));
      say(`loaded with onnxruntime, probe and warm-up inferences answered: ${report.loaded.map((l) => `${l.variant} ${l.file} (${l.ms} ms)`).join(', ')}`);
      for (const w of report.warnings) say(`warning: ${w}`);
      if (flags.version !== undefined) say('a running gateway loads it on its next reload (SIGHUP, or the watch); without a rollout.json the highest version serves');
    });
}
