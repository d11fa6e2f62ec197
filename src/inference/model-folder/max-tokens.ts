// The longest input a model takes, in tokens (special tokens included): the least of what the export
// says, so that no input can run past the model's position embeddings.
import type { FolderFiles } from './folder-files.js';
import type { HfConfig } from './hf-files.js';
import type { Reading } from './read-from.js';

/**
 * model_max_length above this means "no limit": transformers writes int(1e30) when it knows none.
 * Real limits are far below it.
 */
const UNSET_MODEL_MAX_LENGTH = 1_000_000;

/**
 * Model types whose position ids start after the padding id (RoBERTa's scheme: padding_idx + 1, so 2
 * with pad 1): max_position_embeddings counts those unused slots (514 for 512 tokens).
 */
const POSITIONS_AFTER_PADDING = new Set([
  'roberta', 'xlm-roberta', 'xlm-roberta-xl', 'camembert', 'longformer', 'mpnet', 'ibert', 'data2vec-text',
  'roberta-prelayernorm', 'xmod', 'luke', 'markuplm',
]);

export interface LimitSources {
  config?: HfConfig;
  modelMaxLength?: number;
  /** sentence_bert_config.json max_seq_length: the length a sentence-transformers model was trained for. */
  maxSeqLength?: number;
  override?: number;
}

export function maxTokensOf(files: FolderFiles, s: LimitSources): Reading<number> {
  const positions = positionLimit(s.config);
  if (s.override !== undefined) {
    if (positions && s.override > positions.value) {
      return files.fail(`model.json maxTokens ${s.override} exceeds the ${positions.value} tokens ${positions.from} allows: lower it`);
    }
    return { value: s.override, from: 'model.json' };
  }
  const candidates: Reading<number>[] = [];
  if (s.maxSeqLength !== undefined) candidates.push({ value: s.maxSeqLength, from: 'sentence_bert_config.json max_seq_length' });
  if (s.modelMaxLength !== undefined && s.modelMaxLength <= UNSET_MODEL_MAX_LENGTH) {
    candidates.push({ value: s.modelMaxLength, from: 'tokenizer_config.json model_max_length' });
  }
  if (positions) candidates.push(positions);
  if (candidates.length === 0) {
    const why = s.modelMaxLength !== undefined ? `is ${s.modelMaxLength} (no limit)` : 'is not set';
    return files.fail(
      `cannot tell the longest input: tokenizer_config.json model_max_length ${why} and config.json has no max_position_embeddings; set "maxTokens" in model.json`,
    );
  }
  return candidates.reduce((a, b) => (b.value < a.value ? b : a));
}

function positionLimit(config: HfConfig | undefined): Reading<number> | undefined {
  const n = config?.max_position_embeddings;
  if (n === undefined) return undefined;
  if (config?.model_type && POSITIONS_AFTER_PADDING.has(config.model_type)) {
    const offset = (config.pad_token_id ?? 1) + 1;
    return { value: n - offset, from: `config.json max_position_embeddings ${n} - ${offset} (${config.model_type} positions start after the padding id)` };
  }
  return { value: n, from: 'config.json max_position_embeddings' };
}
