// A sentence-transformers folder: modules.json lists the chain after the transformer (Pooling,
// Dense, Normalize, ...). The gateway pools and normalises itself; anything else in the chain must be
// inside the exported graph, as its `sentence_embedding` output.
import type { FolderFiles } from './folder-files.js';
import { modulesSchema, poolingConfigSchema, sentenceBertConfigSchema, type PoolingConfig } from './hf-files.js';
import type { Reading } from './read-from.js';

export interface SentenceTransformersChain {
  /** The folder has modules.json or 1_Pooling/config.json. */
  present: boolean;
  /** How to pool token embeddings, when the gateway can (mean, cls); undefined when it cannot. */
  pooling?: Reading<'mean' | 'cls'>;
  normalize: Reading<boolean>;
  /** Why only a graph with a sentence_embedding output can serve this model (e.g. a Dense module). */
  needsPooledOutput?: string;
  maxSeqLength?: number;
}

const ST = 'sentence_transformers.models.';

export async function readSentenceTransformers(files: FolderFiles): Promise<SentenceTransformersChain> {
  const modules = await files.readOptional('modules.json', modulesSchema);
  const poolingPath = modules?.find((m) => m.type === `${ST}Pooling`)?.path ?? '1_Pooling';
  const poolingFile = `${poolingPath}/config.json`;
  const poolingConfig = await files.readOptional(poolingFile, poolingConfigSchema);
  const bertConfig = await files.readOptional('sentence_bert_config.json', sentenceBertConfigSchema);
  const present = modules !== undefined || poolingConfig !== undefined;
  const chain: SentenceTransformersChain = {
    present,
    normalize: !modules
      ? { value: true, from: 'default (no modules.json)' }
      : modules.some((m) => m.type === `${ST}Normalize`)
        ? { value: true, from: 'modules.json (Normalize module)' }
        : { value: false, from: 'modules.json (no Normalize module)' },
    maxSeqLength: bertConfig?.max_seq_length,
  };
  if (!present) return chain;

  const mode = poolingConfig ? poolingMode(poolingConfig) : undefined;
  if (mode === 'mean' || mode === 'cls') chain.pooling = { value: mode, from: `${poolingFile} pooling_mode_${mode === 'cls' ? 'cls_token' : 'mean_tokens'}` };
  else if (mode === 'no') chain.needsPooledOutput = `${poolingFile} turns on no pooling mode`;
  else if (mode) chain.needsPooledOutput = `${poolingFile} asks for ${mode} pooling, which the gateway does not compute`;
  else if (!poolingConfig) chain.needsPooledOutput = `modules.json has no Pooling module with a config.json`;

  const known = new Set([`${ST}Transformer`, `${ST}Pooling`, `${ST}Normalize`]);
  const others = (modules ?? []).filter((m) => !known.has(m.type));
  if (others.length > 0 && !chain.needsPooledOutput) {
    chain.needsPooledOutput = `modules.json has ${others.map((m) => `${m.type.replace(ST, '')} (${m.path || '.'})`).join(', ')}, which runs after pooling`;
  }
  return chain;
}

function poolingMode(c: PoolingConfig): string {
  const on = [
    c.pooling_mode_cls_token && 'cls',
    c.pooling_mode_mean_tokens && 'mean',
    c.pooling_mode_max_tokens && 'max',
    c.pooling_mode_mean_sqrt_len_tokens && 'mean_sqrt_len',
    c.pooling_mode_weightedmean_tokens && 'weighted-mean',
    c.pooling_mode_lasttoken && 'last-token',
  ].filter((m): m is string => typeof m === 'string');
  if (on.length === 0) return 'no';
  return on.join(' + ');
}
