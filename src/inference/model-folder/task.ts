// Which task an export serves, from config.json's `architectures` (transformers' class names) or the
// presence of a sentence-transformers module chain.
import type { Task } from '../model-spec.js';
import type { FolderFiles } from './folder-files.js';
import type { HfConfig } from './hf-files.js';
import type { Reading } from './read-from.js';

const SERVED = '…ForSequenceClassification: classification; …Model, or a sentence-transformers folder with modules.json: embedding';

export function taskOf(
  files: FolderFiles,
  config: HfConfig | undefined,
  sentenceTransformers: boolean,
  override: Task | undefined,
): Reading<Task> {
  if (override) return { value: override, from: 'model.json' };
  // A sentence-transformers folder is an embedder whatever its checkpoint class (all-mpnet-base-v2
  // says MPNetForMaskedLM).
  if (sentenceTransformers) return { value: 'embedding', from: 'modules.json (a sentence-transformers model)' };
  if (!config) {
    return files.fail(
      'missing file config.json: the task, labels and limits are read from it; copy it from the model (save_pretrained writes it), or set "task" in model.json',
    );
  }
  const archs = config.architectures ?? [];
  if (archs.length === 0) {
    return files.fail(
      `config.json has no "architectures", so the task is unknown: add e.g. "architectures": ["BertForSequenceClassification"] (${SERVED}), or set "task" in model.json`,
    );
  }
  const from = `config.json architectures [${archs.join(', ')}]`;
  if (archs.some((a) => a.endsWith('ForSequenceClassification'))) return { value: 'classification', from };
  // A base encoder (BertModel, XLMRobertaModel, T5EncoderModel, ...), not a language-model head.
  if (archs.some((a) => /^[A-Z][A-Za-z0-9]*Model$/.test(a) && !/(PreTrained|LMHead)Model$/.test(a))) return { value: 'embedding', from };
  return files.fail(
    `${from} is not a task the gateway serves (${SERVED}); export the model for text-classification or feature-extraction, or set "task" in model.json`,
  );
}
