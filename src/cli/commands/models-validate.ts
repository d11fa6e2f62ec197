// `nlp-gateway models validate <dir>`: every check start-up makes, with the same messages, without
// serving: the folders' files first (every problem at once), then each model loaded into onnxruntime
// and warmed up with a real inference, then defaults and fallbacks across the repository. <dir> is a
// repository, or one model folder (checked alone: its fallback is a matter of the repository).
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { ModelLoadError } from '../../errors/errors.js';
import { loadModel, type LoadOptions } from '../../inference/model-loader.js';
import { ModelRegistry } from '../../inference/model-registry.js';
import { isModelFolder, MODEL_MARKERS } from '../../inference/repository/layout.js';
import type { RunnerRequest } from '../../inference/onnx/open-runner.js';
import { LocalRunner } from '../../inference/onnx/local-runner.js';
import { CliError } from '../cli-error.js';
import { commandConfig } from '../config.js';
import { ExitCode } from '../exit-codes.js';
import { startProgress } from '../progress.js';

type Log = LoadOptions['log'];

/** Load options as start-up builds them, with the model run in-process (the checks do not depend on where). */
function loadOptions(config: Config, log: Log) {
  return {
    openRunner: (request: RunnerRequest) => LocalRunner.open(request.file, config, (msg, fields) => log('warn', msg, fields)),
    variantOf: (name: string) => config.MODEL_VARIANTS[name] ?? config.ONNX_VARIANT,
    log,
  };
}

const invalid = (e: unknown): never => {
  if (e instanceof ModelLoadError) throw new CliError(e.message, ExitCode.MODELS_INVALID);
  throw e;
};

async function validateRepository(dir: string, config: Config, log: Log, say: (line: string) => void): Promise<void> {
  const registry = await ModelRegistry.discover(dir).catch(invalid);
  const options = loadOptions(config, log);
  const problems = (await registry.inspect(options.variantOf)).filter((r) => r.error);
  if (problems.length > 0) {
    for (const p of problems) say(`✗ ${p.error!.message}`);
    throw new CliError(`${problems.length} of ${registry.names.length} model folders cannot be served`, ExitCode.MODELS_INVALID);
  }
  const progress = startProgress(registry.names.length, 'loading models');
  const loaded: string[] = [];
  try {
    await registry.loadAll({
      ...options,
      log: (level, msg, fields) => {
        if (msg === 'model loaded') {
          loaded.push(`✓ ${fields.model}: ${fields.task} ${fields.version}, ${fields.file}, loaded and warmed up in ${fields.ms} ms`);
          progress.tick(`${fields.model} ready`);
        } else log(level, msg, fields);
      },
    });
  } catch (e) {
    progress.stop();
    loaded.forEach(say);
    return invalid(e);
  }
  progress.stop();
  loaded.forEach(say);
  const defaults = registry.list().filter((m) => registry.isDefault(m)).map((m) => `${m.task} ${m.name}`);
  const count = registry.names.length;
  say(`${count} ${count === 1 ? 'model' : 'models'} valid in ${dir} (defaults: ${defaults.join(', ')})`);
  await registry.close();
}

async function validateFolder(folder: string, config: Config, log: Log, say: (line: string) => void): Promise<void> {
  const options = loadOptions(config, log);
  const name = path.basename(folder);
  const progress = startProgress(1, 'loading model');
  const started = performance.now();
  const model = await loadModel(folder, { ...options, variant: options.variantOf(name) })
    .catch(invalid)
    .finally(() => progress.stop());
  say(`✓ ${name}: ${model.task} ${model.version}, ${model.file}, loaded and warmed up in ${Math.round(performance.now() - started)} ms`);
  if (model.spec.fallback) say(`  its fallback "${model.spec.fallback}" is checked when its repository is validated`);
  await model.close();
}

export function registerModelsValidate(models: Command): void {
  models
    .command('validate')
    .description('check a model repository (or one model folder) as start-up would, without serving')
    .argument('<dir>', `model repository, or one model folder (holding one of ${MODEL_MARKERS.join(', ')})`)
    .addHelpText('after', '\nExits 0 when every model would serve, 3 (with a message naming folder and problem) when one would not.')
    .action(async (dir: string) => {
      const config = commandConfig({ MODELS_DIR: dir });
      const say = (line: string) => process.stdout.write(`${line}\n`);
      // Warnings (e.g. a quantized variant missing) matter to the user; progress lines do not.
      const log: Log = (level, msg, fields) => void (level === 'warn' && process.stderr.write(`warning: ${msg} ${JSON.stringify(fields)}\n`));
      if (await isModelFolder(dir)) await validateFolder(path.resolve(dir), config, log, say);
      else await validateRepository(dir, config, log, say);
    });
}
