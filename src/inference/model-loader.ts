// Loads one model folder: reads it (model-folder/: an export as Optimum, transformers.js or
// sentence-transformers lay it out, model.json optional), opens its graph, fits the two together, and
// returns a warmed-up Model. Any problem is a ModelLoadError naming the folder: never half a model.
import path from 'node:path';
import { ModelLoadError } from '../errors/errors.js';
import type { InferenceBackend } from './backend.js';
import { ClassificationModel, EmbeddingModel, type Model } from './model.js';
import { fitToGraph } from './model-folder/fit-graph.js';
import { readModelFolder } from './model-folder/read-model-folder.js';
import type { Variant } from './model-folder/weights.js';
import type { PaddingPolicy } from './padding-plan.js';
import { createTextEncoder, type TextEncoder } from './text-encoder.js';

export type { Variant } from './model-folder/weights.js';

export interface LoadOptions {
  variant: Variant;
  padding?: PaddingPolicy;
  openBackend: (file: string) => Promise<InferenceBackend>;
  log: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
}

export async function loadModel(folder: string, options: LoadOptions): Promise<Model> {
  const name = path.basename(folder);
  const fail = (problem: string): never => {
    throw new ModelLoadError(folder, problem);
  };

  const read = await readModelFolder(folder, options.variant);
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

  let backend: InferenceBackend;
  try {
    backend = await options.openBackend(path.join(folder, file));
  } catch (e) {
    return fail(`${file} cannot be loaded by onnxruntime: ${firstLine(e)}; export it again (optimum-cli export onnx), or check that the file is complete`);
  }
  try {
    const spec = await fitToGraph(read, backend, { ids: encoder.encode('probe').ids, padId: encoder.padId });
    options.log('info', 'model folder read', { model: name, readFrom: read.readFrom });
    const model =
      spec.task === 'classification'
        ? new ClassificationModel(name, spec, encoder, backend, file)
        : new EmbeddingModel(name, spec, encoder, backend, file);
    await warmUp(model, fail);
    const calibration = await model.calibrate().catch((e) => fail(`calibration inference failed: ${firstLine(e)}`));
    options.log('info', 'model calibrated', { model: name, ...calibration });
    if (options.padding) model.padding = options.padding;
    return model;
  } catch (e) {
    await backend.close().catch(() => undefined);
    if (e instanceof ModelLoadError) throw e;
    return fail(firstLine(e));
  }
}

/** One real inference on two texts of different lengths: proves the graph runs and its shapes fit. */
async function warmUp(model: Model, fail: (p: string) => never): Promise<void> {
  const texts = ['warm up', 'the quick brown fox jumps over the lazy dog'].map((t) => model.encoder.encode(t));
  try {
    if (model instanceof ClassificationModel) await model.classify(texts);
    else if (model instanceof EmbeddingModel) await model.embed(texts);
  } catch (e) {
    fail(`warm-up inference failed: ${firstLine(e)}`);
  }
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
