// A classifier's labels in output order: config.json id2label, checked against label2id and model.json.
import type { FolderFiles } from './folder-files.js';
import type { HfConfig } from './hf-files.js';
import type { Reading } from './read-from.js';

export function labelsOf(files: FolderFiles, config: HfConfig | undefined, override: string[] | undefined): Reading<string[]> {
  if (config?.problem_type === 'multi_label_classification') {
    // Its scores are independent sigmoids; the gateway's are a softmax over the labels (one label per text).
    return files.fail(
      'config.json problem_type is multi_label_classification (one independent score per label), which the gateway does not serve: it answers single-label classification (a softmax over the labels)',
    );
  }
  const id2label = config?.id2label;
  if (!id2label) {
    if (override) return { value: override, from: 'model.json' };
    return files.fail(
      'config.json has no id2label, so the classifier\'s outputs have no names: add "id2label": {"0": "…", "1": "…"} (one per logit, in output order), or "labels" in model.json',
    );
  }
  const keys = Object.keys(id2label);
  const ids = keys.map(Number).sort((a, b) => a - b);
  if (!ids.every((id, i) => id === i) || keys.some((k) => String(Number(k)) !== k)) {
    return files.fail(`config.json id2label keys must be 0..${keys.length - 1} in output order (it has ${keys.join(', ')}): renumber them`);
  }
  const labels = ids.map((id) => id2label[String(id)]!);
  if (new Set(labels).size !== labels.length) {
    return files.fail(`config.json id2label names a label twice [${labels.join(', ')}]: give every logit its own label`);
  }
  if (labels.length < 2) {
    return files.fail(
      `config.json id2label has ${labels.length} label: a single-score model (a regression, or a cross-encoder reranker) is not a classifier the gateway serves; a classifier has at least 2 labels`,
    );
  }
  for (const [label, id] of Object.entries(config?.label2id ?? {})) {
    if (labels[id] !== label) {
      return files.fail(
        `config.json label2id says "${label}" is ${id} but id2label says ${id} is "${labels[id] ?? '(nothing)'}": make label2id the inverse of id2label, or remove it`,
      );
    }
  }
  if (override && override.join('\u0000') !== labels.join('\u0000')) {
    return files.fail(
      `model.json labels [${override.join(', ')}] differ from config.json id2label [${labels.join(', ')}]: remove "labels" from model.json (id2label is used), or make them equal`,
    );
  }
  return { value: labels, from: override ? 'config.json id2label (model.json agrees)' : 'config.json id2label' };
}
