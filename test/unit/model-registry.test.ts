// Model folders: a valid one serves; every kind of broken one stops loading with a message naming the
// folder and the problem, and nothing stays half-loaded.
import { copyFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors/errors.js';
import { Model } from '../../src/inference/model.js';
import { ModelRegistry } from '../../src/inference/model-registry.js';
import { LocalRunner } from '../../src/inference/onnx/local-runner.js';
import { addTinyClassifier, makeRepo } from '../support/model-repo.js';
import { byLabel, localRunner, runTexts, SETTINGS as settings } from '../support/runners.js';

const warnings: string[] = [];
const loadOptions = {
  openRunner: localRunner((msg) => warnings.push(msg)),
  variantOf: () => 'fp32' as const,
  log: () => undefined,
};

async function load(repo: string): Promise<ModelRegistry> {
  const registry = await ModelRegistry.discover(repo);
  await registry.loadAll(loadOptions);
  return registry;
}

async function expectLoadError(repo: string, folder: string, problem: RegExp): Promise<void> {
  const error = await load(repo).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelLoadError);
  expect((error as ModelLoadError).message).toContain(folder);
  expect((error as ModelLoadError).message).toMatch(problem);
}

describe('a valid model folder', () => {
  it('loads, becomes the default and classifies with exact, padding-invariant outputs', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny');
    await writeFile(path.join(repo, 'README.md'), 'not a model');
    const registry = await load(repo);
    expect(registry.names).toEqual(['tiny']);
    const model = registry.resolve(null, 'classification').pick('any text');
    expect(model).toBeInstanceOf(Model);
    // logits are [0.1 n, -0.1 n] for n tokens: "the cat" is [CLS] the cat [SEP], n = 4.
    const [a, b] = (await runTexts(model, ['the cat', 'the cat sat on the mat'])).map((row) => byLabel(model, row));
    const p = 1 / (1 + Math.exp(-0.8));
    expect(a!.ham).toBeCloseTo(p, 6);
    const [alone] = (await runTexts(model, ['the cat'])).map((row) => byLabel(model, row));
    expect(alone!.ham).toBeCloseTo(a!.ham!, 6);
    expect(b!.ham).toBeGreaterThan(a!.ham!);
    await registry.close();
  });

  it('falls back to CPU, with a warning, when CUDA is requested but unavailable', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    const seen: Array<Record<string, unknown>> = [];
    const backend = await LocalRunner.open(
      path.join(folder, 'onnx/model.onnx'),
      { ...settings, ORT_EXECUTION_PROVIDERS: ['cuda', 'cpu'] },
      (_msg, fields) => seen.push(fields),
    );
    expect(backend.executionProvider).toBe('cpu');
    expect(seen).toEqual([{ requested: ['cuda'], using: ['cpu'] }]);
    await backend.close();
  });
});

describe('weight variants', () => {
  const variantOptions = (variant: 'fp32' | 'quantized', seen: string[]) => ({
    ...loadOptions,
    variantOf: () => variant,
    log: (_level: string, msg: string) => void seen.push(msg),
  });

  it('loads onnx/model_quantized.onnx when the quantized variant is asked for and present', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    await copyFile(path.join(folder, 'onnx/model.onnx'), path.join(folder, 'onnx/model_quantized.onnx'));
    const registry = await ModelRegistry.discover(repo);
    await registry.loadAll(variantOptions('quantized', []));
    expect(registry.get('tiny')!.file).toBe('onnx/model_quantized.onnx');
    await registry.close();
  });

  it('falls back to model.onnx, saying so, when a model has no quantized file', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny');
    const seen: string[] = [];
    const registry = await ModelRegistry.discover(repo);
    await registry.loadAll(variantOptions('quantized', seen));
    expect(registry.get('tiny')!.file).toBe('onnx/model.onnx');
    expect(seen).toContain('no quantized weights; loading the fp32 file onnx/model.onnx');
    await registry.close();
  });
});

describe('a broken model folder stops loading, naming folder and problem', () => {
  it('missing tokenizer.json', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    await rm(path.join(folder, 'tokenizer.json'));
    await expectLoadError(repo, folder, /missing file tokenizer\.json/);
  });

  it('no ONNX file', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    await rm(path.join(folder, 'onnx/model.onnx'));
    await expectLoadError(repo, folder, /no ONNX weights: looked for onnx\/model\.onnx and model\.onnx/);
  });

  it('model.json that is not JSON', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    await writeFile(path.join(folder, 'model.json'), '{ "task": ');
    await expectLoadError(repo, folder, /model\.json is not valid JSON/);
  });

  it('model.json with a bad field', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny', { modelJson: { task: 'translation' } });
    await expectLoadError(repo, folder, /model\.json is invalid: task/);
  });

  it('labels that contradict config.json', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny', { modelJson: { labels: ['spam', 'ham'] } });
    await expectLoadError(repo, folder, /labels .* differ from config\.json id2label/);
  });

  it('ONNX bytes that onnxruntime cannot load', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    await writeFile(path.join(folder, 'onnx/model.onnx'), 'this is not a protobuf');
    await expectLoadError(repo, folder, /cannot be loaded by onnxruntime/);
  });

  it('a graph without input_ids', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny', { onnx: 'no-input-ids.onnx' });
    await expectLoadError(repo, folder, /no input_ids input/);
  });

  it('a graph needing an input the gateway cannot fill', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny', { onnx: 'extra-input.onnx' });
    await expectLoadError(repo, folder, /cannot fill: position_ids/);
  });

  it('a classifier whose outputs do not match its labels (caught by a probe inference)', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny', {
      modelJson: { labels: ['a', 'b', 'c'] },
      config: { id2label: { 0: 'a', 1: 'b', 2: 'c' } },
    });
    await expectLoadError(repo, folder, /output logits has dims \[1, 2\], so 2 labels, but config\.json id2label \(model\.json agrees\) has 3 \[a, b, c\]/);
  });

  it('a fallback that does not exist, and two defaults for one task', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny', { modelJson: { fallback: 'ghost' } });
    await expectLoadError(repo, folder, /fallback "ghost" is not a model/);

    const repo2 = await makeRepo();
    await addTinyClassifier(repo2, 'one', { modelJson: { default: true } });
    await addTinyClassifier(repo2, 'two', { modelJson: { default: true } });
    const error = await load(repo2).then(() => undefined, (e: Error) => e);
    expect(error!.message).toBe(
      `model folder ${repo2}: 2 classification models are marked default (one/model.json, two/model.json): keep "default": true in one of them`,
    );
  });

  it('several models of a task and none marked default: they serve, requests must name one', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'one');
    await addTinyClassifier(repo, 'two');
    const warned: Array<[string, Record<string, unknown>]> = [];
    const registry = await ModelRegistry.discover(repo);
    await registry.loadAll({ ...loadOptions, log: (level, msg, fields) => void (level === 'warn' && warned.push([msg, fields])) });
    expect(warned).toEqual([
      ['no default model for a task; requests must name one (set "default": true in one model.json)', { task: 'classification', models: ['one', 'two'] }],
    ]);
    expect(registry.resolve('two', 'classification').name).toBe('two');
    expect(() => registry.resolve(null, 'classification')).toThrow(/does not exist; available: one, two/);
    await registry.close();
  });

  it('an empty repository', async () => {
    const repo = await makeRepo();
    await expectLoadError(repo, repo, /no model folders/);
  });
});
