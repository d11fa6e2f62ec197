// Folder -> what the gateway serves it by: reads an export as Optimum, transformers.js or
// sentence-transformers lay it out (config.json, tokenizer files, sentence-transformers modules, the
// ONNX file of the requested variant), with model.json as an optional override. Reads files only; the
// graph is checked against the result by fitToGraph once a session is open.
import type { Task } from '../model-spec.js';
import { FolderFiles } from './folder-files.js';
import { hfConfigSchema, tokenizerConfigSchema } from './hf-files.js';
import { labelsOf } from './labels.js';
import { maxTokensOf } from './max-tokens.js';
import { MODEL_JSON_KEYS, modelJsonSchema, type ModelJson } from './model-json.js';
import { note, type ReadFrom } from './read-from.js';
import { readSentenceTransformers, type SentenceTransformersChain } from './sentence-transformers.js';
import { taskOf } from './task.js';
import { weightsVersion } from './version.js';
import { chooseWeights, type Variant } from './weights.js';

export interface FolderSpec {
  folder: string;
  task: Task;
  version: string;
  maxTokens: number;
  /** Classification only. */
  labels?: string[];
  /** Embedding only: pooling the folder asks for (the graph may still provide a pooled output). */
  pooling?: 'mean' | 'cls' | 'none';
  normalize?: boolean;
  /** Weights file to load, relative to the folder. */
  weights: string;
  /** Parsed tokenizer.json and tokenizer_config.json ({} when absent). */
  tokenizer: object;
  tokenizerConfig: object;
  modelJson: ModelJson;
  /** Embedding only: the sentence-transformers chain, when the folder has one. */
  chain?: SentenceTransformersChain;
  readFrom: ReadFrom;
  /** Things worth a warning at load (e.g. the requested variant is missing). */
  warnings: string[];
}

const SLOW_TOKENIZER_FILES = ['vocab.txt', 'vocab.json', 'sentencepiece.bpe.model', 'spiece.model', 'tokenizer.model'];

/**
 * `folderVersion`: the version the folder's name gives (a version folder, <name>/<version>/); it is the
 * version, and model.json may repeat it but not contradict it.
 */
export async function readModelFolder(folder: string, variant: Variant, folderVersion?: string): Promise<FolderSpec> {
  const files = new FolderFiles(folder);
  const modelJson = (await files.readOptional('model.json', modelJsonSchema, `model.json may hold ${MODEL_JSON_KEYS}`)) ?? {};
  const config = await files.readOptional('config.json', hfConfigSchema);
  const tokenizer = await readTokenizer(files);
  const tokenizerConfig = (await files.readOptional('tokenizer_config.json', tokenizerConfigSchema)) ?? {};
  const chain = await readSentenceTransformers(files);
  const readFrom: ReadFrom = {};
  const warnings: string[] = [];

  const task = note(readFrom, 'task', taskOf(files, config, chain.present, modelJson.task));
  const labels = task === 'classification' ? note(readFrom, 'labels', labelsOf(files, config, modelJson.labels), (l) => l.join(', ')) : undefined;
  const maxTokens = note(
    readFrom,
    'maxTokens',
    maxTokensOf(files, {
      config,
      modelMaxLength: tokenizerConfig.model_max_length,
      maxSeqLength: chain.present ? chain.maxSeqLength : undefined,
      override: modelJson.maxTokens,
    }),
  );

  let pooling: FolderSpec['pooling'];
  let normalize: boolean | undefined;
  if (task === 'embedding') {
    pooling = note(
      readFrom,
      'pooling',
      modelJson.pooling
        ? { value: modelJson.pooling, from: 'model.json' }
        : (chain.pooling ?? { value: 'mean', from: chain.present ? 'decided by the graph' : 'default (no 1_Pooling/config.json)' }),
    );
    normalize = note(readFrom, 'normalize', modelJson.normalize !== undefined ? { value: modelJson.normalize, from: 'model.json' } : chain.normalize);
  }

  const weights = await chooseWeights(files, variant, modelJson.weights);
  note(readFrom, 'weights', weights);
  if (weights.substituted) warnings.push(weights.substituted);
  note(readFrom, 'tokenizer', { value: 'tokenizer.json', from: tokenizerKind(tokenizer) });
  if (folderVersion !== undefined && modelJson.version !== undefined && modelJson.version !== folderVersion) {
    files.fail(`model.json version "${modelJson.version}" differs from the version folder's name "${folderVersion}": the folder name is the version; remove "version" from model.json or make them equal`);
  }
  const version = note(
    readFrom,
    'version',
    folderVersion !== undefined
      ? { value: folderVersion, from: 'version folder name' }
      : modelJson.version
        ? { value: modelJson.version, from: 'model.json' }
        : await weightsVersion(folder, weights.value),
  );
  note(readFrom, 'default', { value: modelJson.default ?? false, from: modelJson.default === undefined ? 'not set (model.json "default")' : 'model.json' }, (d) => (d ? 'yes' : 'no'));
  if (modelJson.fallback) note(readFrom, 'fallback', { value: modelJson.fallback, from: 'model.json' });

  return {
    folder,
    task,
    version,
    maxTokens,
    labels,
    pooling,
    normalize,
    weights: weights.value,
    tokenizer,
    tokenizerConfig,
    modelJson,
    chain: chain.present ? chain : undefined,
    readFrom,
    warnings,
  };
}

async function readTokenizer(files: FolderFiles): Promise<object> {
  const tokenizer = await files.readOptional<object>('tokenizer.json');
  if (tokenizer) return tokenizer;
  const slow: string[] = [];
  for (const f of SLOW_TOKENIZER_FILES) if (await files.exists(f)) slow.push(f);
  const has = slow.length > 0 ? ` (the folder has ${slow.join(', ')}, which only the Python "slow" tokenizer reads)` : '';
  return files.fail(
    `missing file tokenizer.json${has}: write it with AutoTokenizer.from_pretrained(<model>).save_pretrained(<folder>) in Python, which saves the fast tokenizer`,
  );
}

function tokenizerKind(tokenizer: object): string {
  const t = tokenizer as { model?: { type?: string }; pre_tokenizer?: { type?: string } | null };
  const model = t.model?.type ?? 'unknown model';
  const pre = t.pre_tokenizer?.type;
  return pre ? `${model}, ${pre} pre-tokenizer` : model;
}
