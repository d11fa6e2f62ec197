// Loads one model folder: reads it (model-folder/: an export as Optimum, transformers.js or
// sentence-transformers lay it out, model.json optional), opens its graph, fits the two together, and
// returns a warmed-up Model. Any problem is a ModelLoadError naming the folder: never half a model.
import path from 'node:path';
import { ModelLoadError } from '../errors/errors.js';
import { Model, postProcessOf } from './model.js';
import { fitToGraph } from './model-folder/fit-graph.js';
import { readModelFolder, type FolderSpec } from './model-folder/read-model-folder.js';
import type { Variant } from './model-folder/weights.js';
import type { RunnerRequest } from './onnx/open-runner.js';
import { packRows, type ModelRunner } from './runner.js';
import { createTextEncoder, type TextEncoder } from './text-encoder.js';

export type { Variant } from './model-folder/weights.js';

export interface FolderLoadOptions {
  /** The variant the folder was read for (its warnings are logged with it). */
  variant: Variant;
  /** The model's name; default: the folder's name (a version folder's model is its parent folder). */
  name?: string;
  openRunner: (request: RunnerRequest) => Promise<ModelRunner>;
  log: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
}

export interface LoadOptions extends FolderLoadOptions {
  /** The version a version folder's name gives (see readModelFolder). */
  folderVersion?: string;
}

/** Reads `folder` (readModelFolder), then loads it (loadFolder). */
export async function loadModel(folder: string, options: LoadOptions): Promise<Model> {
  return loadFolder(await readModelFolder(folder, options.variant, options.folderVersion), options);
}

/**
 * Loads a folder already read (readModelFolder: the checks that need no graph, which start-up and the
 * CLI run on every folder first): opens its graph, fits the two together, and warms the model up.
 */
export async function loadFolder(read: FolderSpec, options: FolderLoadOptions): Promise<Model> {
  const folder = read.folder;
  const name = options.name ?? path.basename(folder);
  const fail = (problem: string): never => {
    throw new ModelLoadError(folder, problem);
  };

  for (const warning of read.warnings) options.log('warn', warning, { model: name, variant: options.variant });
  const file = read.weights;
  let encoder: TextEncoder;
  try {
    encoder = createTextEncoder({ tokenizer: read.tokenizer, config: read.tokenizerConfig, maxTokens: read.maxTokens });
  } catch (e) {
    return fail(
      `tokenizer.json cannot be loaded: ${firstLine(e)}; save it again with a current tokenizers library (AutoTokenizer.from_pretrained(<model>).save_pretrained(<folder>))`,
    );
  }

  let runner: ModelRunner;
  try {
    runner = await options.openRunner({ model: name, file: path.join(folder, file), padId: encoder.padId, maxTokens: read.maxTokens });
  } catch (e) {
    return fail(`${file} cannot be loaded by onnxruntime: ${firstLine(e)}; export it again (optimum-cli export onnx), or check that the file is complete`);
  }
  try {
    const spec = await fitToGraph(read, runner, { ids: encoder.encode('probe').ids, padId: encoder.padId });
    options.log('info', 'model folder read', { model: name, readFrom: read.readFrom });
    await runner.configure(postProcessOf(spec), encoder.padId);
    const model = new Model(name, spec, encoder, runner, file, folder);
    await warmUp(model, fail);
    return model;
  } catch (e) {
    await runner.close().catch(() => undefined);
    if (e instanceof ModelLoadError) throw e;
    return fail(firstLine(e));
  }
}

/** One real inference on two texts of different lengths: proves the graph runs and its shapes fit. */
async function warmUp(model: Model, fail: (p: string) => never): Promise<void> {
  const rows = ['warm up', 'the quick brown fox jumps over the lazy dog'].map((t) => model.encoder.encode(t).ids);
  try {
    await model.runner.run(packRows(rows));
  } catch (e) {
    fail(`warm-up inference failed: ${firstLine(e)}`);
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
