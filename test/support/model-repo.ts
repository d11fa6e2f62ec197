// Builds throw-away model repositories from the tiny fixtures, to test loading and validation.
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from './gateway-process.js';
import { BERT_TOKENIZER_CONFIG, bertTokenizerJson } from './tiny-tokenizers.js';

export const ONNX_FIXTURES = path.join(REPO, 'test/fixtures/onnx');

/** A repository with `primary` (fails on texts holding "!"), its fallback `backup`, and `lonely`
 * (fails likewise, no fallback): the breaker and fallback chain can be driven from requests alone. */
export async function makeFaultyRepo(): Promise<string> {
  const repo = await makeRepo();
  await addTinyClassifier(repo, 'primary', { onnx: 'faulty-classifier.onnx', modelJson: { default: true, fallback: 'backup' } });
  await addTinyClassifier(repo, 'backup');
  await addTinyClassifier(repo, 'lonely', { onnx: 'faulty-classifier.onnx' });
  return repo;
}

export interface TinyModelOptions {
  onnx?: string;
  modelJson?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export async function makeRepo(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'nlp-models-'));
}

/** Writes a valid tiny two-label classifier folder (HF layout + model.json) into `repo`. */
export async function addTinyClassifier(repo: string, name: string, options: TinyModelOptions = {}): Promise<string> {
  const folder = path.join(repo, name);
  await mkdir(path.join(folder, 'onnx'), { recursive: true });
  await writeFile(
    path.join(folder, 'config.json'),
    JSON.stringify({ model_type: 'bert', id2label: { 0: 'ham', 1: 'spam' }, max_position_embeddings: 64, ...options.config }),
  );
  await writeFile(path.join(folder, 'tokenizer.json'), JSON.stringify(bertTokenizerJson()));
  await writeFile(path.join(folder, 'tokenizer_config.json'), JSON.stringify(BERT_TOKENIZER_CONFIG));
  await writeFile(
    path.join(folder, 'model.json'),
    JSON.stringify({ task: 'classification', version: '0.0.1', labels: ['ham', 'spam'], maxTokens: 16, ...options.modelJson }),
  );
  await copyFile(path.join(ONNX_FIXTURES, options.onnx ?? 'tiny-classifier.onnx'), path.join(folder, 'onnx/model.onnx'));
  return folder;
}

/** A tiny classifier as version `version` of model `name`: <repo>/<name>/<version>/ (model.json repeats the version). */
export async function addTinyVersion(repo: string, name: string, version: string, options: TinyModelOptions = {}): Promise<string> {
  await mkdir(path.join(repo, name), { recursive: true });
  return addTinyClassifier(path.join(repo, name), version, { ...options, modelJson: { version, ...options.modelJson } });
}

/** The tiny classifier with its labels the other way round: it says "spam" where the plain one says "ham". */
export const SWAPPED_LABELS: TinyModelOptions = { config: { id2label: { 0: 'spam', 1: 'ham' } }, modelJson: { labels: ['spam', 'ham'] } };

/** Writes <repo>/<name>/rollout.json. */
export async function writeRollout(repo: string, name: string, rollout: Record<string, unknown>): Promise<void> {
  await writeFile(path.join(repo, name, 'rollout.json'), JSON.stringify(rollout));
}
