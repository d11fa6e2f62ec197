// Reads one model folder (Hugging Face layout + model.json), checks everything it can before serving,
// and returns a warmed-up Model. Any problem is a ModelLoadError naming the folder: never half a model.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { ModelLoadError } from '../errors/errors.js';
import type { InferenceBackend } from './backend.js';
import { ClassificationModel, EmbeddingModel, type Model } from './model.js';
import { hfConfigSchema, modelSpecSchema, type HfConfig, type ModelSpec } from './model-spec.js';
import { FEEDABLE_INPUTS } from './onnx/onnx-backend.js';
import type { PaddingPolicy } from './padding-plan.js';
import { createTextEncoder, type TextEncoder } from './text-encoder.js';

export type Variant = 'fp32' | 'quantized';

export const WEIGHT_FILES: Record<Variant, string> = {
  fp32: 'onnx/model.onnx',
  quantized: 'onnx/model_quantized.onnx',
};

export interface LoadOptions {
  variant: Variant;
  padding?: PaddingPolicy;
  openBackend: (file: string) => Promise<InferenceBackend>;
  log: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
}

/** What a model folder declares, read and checked without loading its tokenizer or weights. */
export interface FolderInspection {
  spec: ModelSpec;
  hfConfig: HfConfig;
  /** The weights file that would be loaded, relative to the folder. */
  file: string;
}

/**
 * The checks that need no model loaded: the files are there, model.json and config.json are valid and
 * agree. Cheap, so start-up runs it on every folder before it listens (and the CLI lists with it);
 * the messages are those loadModel gives, in the same order.
 */
export async function inspectModelFolder(
  folder: string,
  variant: Variant,
  log?: LoadOptions['log'],
): Promise<FolderInspection> {
  const fail = failIn(folder);
  const spec = await readJson(folder, 'model.json', modelSpecSchema, fail);
  const hfConfig = await readJson(folder, 'config.json', hfConfigSchema, fail);
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
    const present = await stat(path.join(folder, file)).then((s) => !s.isDirectory(), () => false);
    if (!present) fail(`missing file ${file}`);
  }
  checkConsistency(spec, hfConfig, fail);
  const file = await chooseWeights(folder, variant, log, fail);
  return { spec, hfConfig, file };
}

export async function loadModel(folder: string, options: LoadOptions): Promise<Model> {
  const name = path.basename(folder);
  const fail = failIn(folder);

  const { spec, file } = await inspectModelFolder(folder, options.variant, options.log);
  const tokenizerJson = await readJson(folder, 'tokenizer.json', undefined, fail);
  const tokenizerConfig = await readJson(folder, 'tokenizer_config.json', undefined, fail);
  let encoder: TextEncoder;
  try {
    encoder = createTextEncoder({ tokenizer: tokenizerJson as object, config: tokenizerConfig as object, maxTokens: spec.maxTokens });
  } catch (e) {
    return fail(`tokenizer.json cannot be loaded: ${(e as Error).message}`);
  }

  let backend: InferenceBackend;
  try {
    backend = await options.openBackend(path.join(folder, file));
  } catch (e) {
    return fail(`${file} cannot be loaded by onnxruntime: ${firstLine(e)}`);
  }
  try {
    if (!backend.inputNames.includes('input_ids')) fail(`${file} has no input_ids input (it has ${backend.inputNames.join(', ')})`);
    const unknown = backend.inputNames.filter((n) => !(FEEDABLE_INPUTS as readonly string[]).includes(n));
    if (unknown.length > 0) fail(`${file} needs inputs the gateway cannot fill: ${unknown.join(', ')}`);

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

function checkConsistency(spec: ModelSpec, hf: HfConfig, fail: (p: string) => never): void {
  if (spec.task === 'classification' && hf.id2label) {
    const fromConfig = Object.keys(hf.id2label)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => hf.id2label![k]);
    if (fromConfig.join('\u0000') !== spec.labels.join('\u0000')) {
      fail(`model.json labels [${spec.labels}] differ from config.json id2label [${fromConfig}]`);
    }
  }
  if (hf.max_position_embeddings !== undefined && spec.maxTokens > hf.max_position_embeddings) {
    fail(`model.json maxTokens ${spec.maxTokens} exceeds config.json max_position_embeddings ${hf.max_position_embeddings}`);
  }
}

function failIn(folder: string) {
  return (problem: string): never => {
    throw new ModelLoadError(folder, problem);
  };
}

async function chooseWeights(folder: string, variant: Variant, log: LoadOptions['log'] | undefined, fail: (p: string) => never): Promise<string> {
  const wanted = WEIGHT_FILES[variant];
  if (await isFile(path.join(folder, wanted))) return wanted;
  const fallback = WEIGHT_FILES.fp32;
  if (variant !== 'fp32' && (await isFile(path.join(folder, fallback)))) {
    log?.('warn', 'model has no weights for the requested variant; loading fp32', {
      model: path.basename(folder),
      variant,
    });
    return fallback;
  }
  return fail(`missing file ${wanted}`);
}

async function readJson<T>(
  folder: string,
  file: string,
  schema: z.ZodType<T> | undefined,
  fail: (p: string) => never,
): Promise<T> {
  let text: string;
  try {
    text = await readFile(path.join(folder, file), 'utf8');
  } catch {
    return fail(`missing file ${file}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return fail(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!schema) return value as T;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return fail(`${file} is invalid: ${issues}`);
  }
  return parsed.data;
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}
