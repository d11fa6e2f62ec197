// Reads one model folder (Hugging Face layout + model.json), checks everything it can before serving,
// and returns a warmed-up Model. Any problem is a ModelLoadError naming the folder: never half a model.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { ModelLoadError } from '../errors/errors.js';
import { Model, postProcessOf } from './model.js';
import { hfConfigSchema, modelSpecSchema, type ModelSpec } from './model-spec.js';
import { FEEDABLE_INPUTS } from './onnx/run-call.js';
import type { ModelRunner, PostProcess } from './runner.js';
import { createTextEncoder, type TextEncoder } from './text-encoder.js';

export type Variant = 'fp32' | 'quantized';

export const WEIGHT_FILES: Record<Variant, string> = {
  fp32: 'onnx/model.onnx',
  quantized: 'onnx/model_quantized.onnx',
};

export interface RunnerRequest {
  /** The model's name (its folder). */
  model: string;
  /** The weights file, absolute. */
  file: string;
  post: PostProcess;
  padId: number;
  /** Longest input in tokens (to time a typical call). */
  maxTokens: number;
}

export interface LoadOptions {
  variant: Variant;
  openRunner: (request: RunnerRequest) => Promise<ModelRunner>;
  log: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
}

export async function loadModel(folder: string, options: LoadOptions): Promise<Model> {
  const name = path.basename(folder);
  const fail = (problem: string): never => {
    throw new ModelLoadError(folder, problem);
  };

  const spec = await readJson(folder, 'model.json', modelSpecSchema, fail);
  const hfConfig = await readJson(folder, 'config.json', hfConfigSchema, fail);
  const tokenizerJson = await readJson(folder, 'tokenizer.json', undefined, fail);
  const tokenizerConfig = await readJson(folder, 'tokenizer_config.json', undefined, fail);
  checkConsistency(spec, hfConfig, fail);

  const file = await chooseWeights(folder, options, fail);
  let encoder: TextEncoder;
  try {
    encoder = createTextEncoder({ tokenizer: tokenizerJson as object, config: tokenizerConfig as object, maxTokens: spec.maxTokens });
  } catch (e) {
    return fail(`tokenizer.json cannot be loaded: ${(e as Error).message}`);
  }

  let runner: ModelRunner;
  try {
    runner = await options.openRunner({ model: name, file: path.join(folder, file), post: postProcessOf(spec), padId: encoder.padId, maxTokens: spec.maxTokens });
  } catch (e) {
    return fail(`${file} cannot be loaded by onnxruntime: ${firstLine(e)}`);
  }
  try {
    if (!runner.inputNames.includes('input_ids')) fail(`${file} has no input_ids input (it has ${runner.inputNames.join(', ')})`);
    const unknown = runner.inputNames.filter((n) => !(FEEDABLE_INPUTS as readonly string[]).includes(n));
    if (unknown.length > 0) fail(`${file} needs inputs the gateway cannot fill: ${unknown.join(', ')}`);
    const model = new Model(name, spec, encoder, runner, file);
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
  const ids = Int32Array.from(rows.flat());
  try {
    await model.runner.run({ ids, lengths: Int32Array.from(rows.map((r) => r.length)) });
  } catch (e) {
    fail(`warm-up inference failed: ${firstLine(e)}`);
  }
}

function checkConsistency(spec: ModelSpec, hf: z.infer<typeof hfConfigSchema>, fail: (p: string) => never): void {
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

async function chooseWeights(folder: string, options: LoadOptions, fail: (p: string) => never): Promise<string> {
  const wanted = WEIGHT_FILES[options.variant];
  if (await isFile(path.join(folder, wanted))) return wanted;
  const fallback = WEIGHT_FILES.fp32;
  if (options.variant !== 'fp32' && (await isFile(path.join(folder, fallback)))) {
    options.log('warn', 'model has no weights for the requested variant; loading fp32', {
      model: path.basename(folder),
      variant: options.variant,
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
