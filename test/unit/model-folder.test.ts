// Reading exports as they come (model-folder/): each layout Optimum, transformers.js and
// sentence-transformers produce resolves to the right task, labels, limits, pooling, normalisation and
// weights file, saying where each came from; each broken folder is refused with a message naming the
// file and the fix (asserted exactly).
import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors/errors.js';
import { loadModel } from '../../src/inference/model-loader.js';
import { readModelFolder } from '../../src/inference/model-folder/read-model-folder.js';
import type { Variant } from '../../src/inference/model-folder/weights.js';
import { localRunner } from '../support/runners.js';
import { copyExport, EXPORTS } from '../support/exports.js';


async function load(folder: string, variant: Variant = 'fp32', warnings: string[] = []) {
  return loadModel(folder, {
    variant,
    openRunner: localRunner(),
    log: (level, msg) => void (level === 'warn' && warnings.push(msg)),
  });
}

async function refusal(run: () => Promise<unknown>): Promise<string> {
  const error = await run().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ModelLoadError);
  return (error as ModelLoadError).message;
}

const editJson = async (file: string, edit: (json: any) => void) => {
  const json = JSON.parse(await readFile(file, 'utf8'));
  edit(json);
  await writeFile(file, JSON.stringify(json));
};

describe('exports as they come', () => {
  it('Optimum: model.onnx and model_quantized.onnx at the top, task and labels from config.json', async () => {
    const f = await readModelFolder(path.join(EXPORTS, 'bert'), 'fp32');
    expect(f).toMatchObject({ task: 'classification', labels: ['NEGATIVE', 'POSITIVE'], maxTokens: 64, weights: 'model.onnx' });
    expect(f.readFrom.task).toEqual({ value: 'classification', from: 'config.json architectures [BertForSequenceClassification]' });
    expect(f.readFrom.labels!.from).toBe('config.json id2label');
    expect(f.readFrom.weights!.from).toBe('top of the folder (Optimum layout)');
    const hash = createHash('sha256').update(await readFile(path.join(EXPORTS, 'bert/model.onnx'))).digest('hex');
    expect(f.version).toBe(hash.slice(0, 12));
    expect((await readModelFolder(path.join(EXPORTS, 'bert'), 'quantized')).weights).toBe('model_quantized.onnx');
  });

  it('transformers.js: onnx/model.onnx and onnx/model_quantized.onnx; RoBERTa-family limits net of the padding offset', async () => {
    const distil = await readModelFolder(path.join(EXPORTS, 'distilbert'), 'quantized');
    expect(distil).toMatchObject({ task: 'classification', labels: ['World', 'Sports', 'Business', 'Sci/Tech'], weights: 'onnx/model_quantized.onnx' });
    // tokenizer_config.json says 1e30 (no limit): max_position_embeddings 66 minus RoBERTa's offset of 2.
    const xlmr = await copyExport('xlm-roberta', (dir) => editJson(path.join(dir, 'tokenizer_config.json'), (j) => (j.model_max_length = 1e30)));
    const f = await readModelFolder(xlmr, 'fp32');
    expect(f.maxTokens).toBe(64);
    expect(f.readFrom.maxTokens!.from).toBe('config.json max_position_embeddings 66 - 2 (xlm-roberta positions start after the padding id)');
  });

  it('sentence-transformers: an embedder whatever its checkpoint class, pooling and normalisation from its modules', async () => {
    const f = await readModelFolder(path.join(EXPORTS, 'mpnet'), 'quantized');
    expect(f).toMatchObject({ task: 'embedding', pooling: 'mean', normalize: true, weights: 'onnx/model_qint8_avx512_vnni.onnx' });
    expect(f.readFrom.task!.from).toBe('modules.json (a sentence-transformers model)');
    expect(f.readFrom.pooling!.from).toBe('1_Pooling/config.json pooling_mode_mean_tokens');
    expect(f.readFrom.normalize!.from).toBe('modules.json (Normalize module)');
    expect((await readModelFolder(path.join(EXPORTS, 'st-cls'), 'fp32')).pooling).toBe('cls');
  });

  it('sentence-transformers: max_seq_length limits below model_max_length; no Normalize module means raw vectors', async () => {
    const dir = await copyExport('st-cls', async (d) => {
      await editJson(path.join(d, 'sentence_bert_config.json'), (j) => (j.max_seq_length = 32));
      await editJson(path.join(d, 'modules.json'), (j) => j.splice(2, 1));
    });
    const model = await load(dir);
    expect(model.spec).toMatchObject({ maxTokens: 32, normalize: false });
    await model.close();
  });

  it('Optimum --library sentence_transformers: served from sentence_embedding (Dense and Normalize inside the graph)', async () => {
    const model = await load(path.join(EXPORTS, 'st-dense'));
    expect(model.spec).toMatchObject({ task: 'embedding', pooling: 'none', dimensions: 16, normalize: true });
    expect(model.file).toBe('model.onnx');
    await model.close();
  });

  it('a bare encoder (…Model, no sentence-transformers files): mean pooling, normalised, dimensions from the graph', async () => {
    const dir = await copyExport('st-cls', async (d) => {
      for (const f of ['modules.json', '1_Pooling', 'sentence_bert_config.json', 'config_sentence_transformers.json']) await rm(path.join(d, f), { recursive: true });
    });
    const model = await load(dir);
    expect(model.spec).toMatchObject({ task: 'embedding', pooling: 'mean', normalize: true, dimensions: 32 });
    await model.close();
  });

  it('only an int8 file: served, with a warning; onnx/ wins over a copy at the top', async () => {
    const dir = await copyExport('distilbert', (d) => rm(path.join(d, 'onnx/model.onnx')));
    const warnings: string[] = [];
    const model = await load(dir, 'fp32', warnings);
    expect(model.file).toBe('onnx/model_quantized.onnx');
    expect(warnings).toEqual(['no fp32 weights; loading the quantized file onnx/model_quantized.onnx']);
    await model.close();
    const both = await copyExport('distilbert', async (d) => {
      await writeFile(path.join(d, 'model.onnx'), 'not used');
    });
    expect((await readModelFolder(both, 'fp32')).weights).toBe('onnx/model.onnx');
  });

  it('model.json overrides only what it names', async () => {
    const dir = await copyExport('bert', (d) => writeFile(path.join(d, 'model.json'), JSON.stringify({ version: '2.1.0', default: true, maxTokens: 32 })));
    const f = await readModelFolder(dir, 'fp32');
    expect(f).toMatchObject({ version: '2.1.0', maxTokens: 32, labels: ['NEGATIVE', 'POSITIVE'] });
    expect(f.readFrom.version!.from).toBe('model.json');
    expect(f.readFrom.labels!.from).toBe('config.json id2label');
    expect(f.readFrom.default).toEqual({ value: 'yes', from: 'model.json' });
  });
});

describe('broken exports are refused, naming the file and the fix', () => {
  const at = (dir: string, problem: string) => `model folder ${dir}: ${problem}`;

  it('missing tokenizer.json (only the slow tokenizer\'s vocab.txt)', async () => {
    const dir = await copyExport('bert', (d) => rm(path.join(d, 'tokenizer.json')));
    expect(await refusal(() => readModelFolder(dir, 'fp32'))).toBe(
      at(dir, 'missing file tokenizer.json (the folder has vocab.txt, which only the Python "slow" tokenizer reads): write it with AutoTokenizer.from_pretrained(<model>).save_pretrained(<folder>) in Python, which saves the fast tokenizer'),
    );
  });

  it('no architectures in config.json and no model.json', async () => {
    const dir = await copyExport('bert', (d) => editJson(path.join(d, 'config.json'), (j) => delete j.architectures));
    expect(await refusal(() => readModelFolder(dir, 'fp32'))).toBe(
      at(dir, 'config.json has no "architectures", so the task is unknown: add e.g. "architectures": ["BertForSequenceClassification"] (…ForSequenceClassification: classification; …Model, or a sentence-transformers folder with modules.json: embedding), or set "task" in model.json'),
    );
  });

  it('an architecture the gateway does not serve', async () => {
    const dir = await copyExport('bert', (d) => editJson(path.join(d, 'config.json'), (j) => (j.architectures = ['BertForMaskedLM'])));
    expect(await refusal(() => readModelFolder(dir, 'fp32'))).toBe(
      at(dir, 'config.json architectures [BertForMaskedLM] is not a task the gateway serves (…ForSequenceClassification: classification; …Model, or a sentence-transformers folder with modules.json: embedding); export the model for text-classification or feature-extraction, or set "task" in model.json'),
    );
  });

  it('no config.json and no model.json', async () => {
    const dir = await copyExport('distilbert', (d) => rm(path.join(d, 'config.json')));
    expect(await refusal(() => readModelFolder(dir, 'fp32'))).toBe(
      at(dir, 'missing file config.json: the task, labels and limits are read from it; copy it from the model (save_pretrained writes it), or set "task" in model.json'),
    );
  });

  it('id2label mismatches: with model.json, with label2id, gaps in its ids, and with the graph\'s logits', async () => {
    const a = await copyExport('bert', (d) => writeFile(path.join(d, 'model.json'), JSON.stringify({ labels: ['neg', 'pos'] })));
    expect(await refusal(() => readModelFolder(a, 'fp32'))).toBe(
      at(a, 'model.json labels [neg, pos] differ from config.json id2label [NEGATIVE, POSITIVE]: remove "labels" from model.json (id2label is used), or make them equal'),
    );
    const b = await copyExport('bert', (d) => editJson(path.join(d, 'config.json'), (j) => (j.label2id = { NEGATIVE: 1, POSITIVE: 0 })));
    expect(await refusal(() => readModelFolder(b, 'fp32'))).toBe(
      at(b, 'config.json label2id says "NEGATIVE" is 1 but id2label says 1 is "POSITIVE": make label2id the inverse of id2label, or remove it'),
    );
    const c = await copyExport('bert', (d) => editJson(path.join(d, 'config.json'), (j) => ((j.id2label = { 0: 'NEGATIVE', 2: 'POSITIVE' }), delete j.label2id)));
    expect(await refusal(() => readModelFolder(c, 'fp32'))).toBe(at(c, 'config.json id2label keys must be 0..1 in output order (it has 0, 2): renumber them'));
    const d3 = await copyExport('bert', (d) => editJson(path.join(d, 'config.json'), (j) => ((j.id2label = { 0: 'neg', 1: 'neutral', 2: 'pos' }), delete j.label2id)));
    expect(await refusal(() => load(d3))).toBe(
      at(d3, 'model.onnx output logits has dims [1, 2], so 2 labels, but config.json id2label has 3 [neg, neutral, pos]: list one label per logit'),
    );
  });

  it('a single-score model (regression, cross-encoder), and a classifier\'s graph asked to embed', async () => {
    const one = await copyExport('bert', (d) => editJson(path.join(d, 'config.json'), (j) => ((j.id2label = { 0: 'LABEL_0' }), delete j.label2id)));
    expect(await refusal(() => readModelFolder(one, 'fp32'))).toBe(
      at(one, 'config.json id2label has 1 label: a single-score model (a regression, or a cross-encoder reranker) is not a classifier the gateway serves; a classifier has at least 2 labels'),
    );
    const asEmbedder = await copyExport('bert', (d) => writeFile(path.join(d, 'model.json'), JSON.stringify({ task: 'embedding' })));
    expect(await refusal(() => load(asEmbedder))).toBe(
      at(asEmbedder, 'model.onnx has no output holding token embeddings (looked for last_hidden_state, token_embeddings; it has logits): export it for feature-extraction'),
    );
  });

  it('a multi-label classifier', async () => {
    const dir = await copyExport('roberta', (d) => editJson(path.join(d, 'config.json'), (j) => (j.problem_type = 'multi_label_classification')));
    expect(await refusal(() => readModelFolder(dir, 'fp32'))).toBe(
      at(dir, 'config.json problem_type is multi_label_classification (one independent score per label), which the gateway does not serve: it answers single-label classification (a softmax over the labels)'),
    );
  });

  it('no ONNX file, and ONNX files under other names', async () => {
    const none = await copyExport('bert', async (d) => {
      await rm(path.join(d, 'model.onnx'));
      await rm(path.join(d, 'model_quantized.onnx'));
    });
    expect(await refusal(() => readModelFolder(none, 'fp32'))).toBe(
      at(none, 'no ONNX weights: looked for onnx/model.onnx and model.onnx; export the model with `optimum-cli export onnx --model <model> <folder>`'),
    );
    const other = await copyExport('bert', async (d) => {
      await rename(path.join(d, 'model.onnx'), path.join(d, 'model_O4.onnx'));
      await rm(path.join(d, 'model_quantized.onnx'));
    });
    expect(await refusal(() => readModelFolder(other, 'fp32'))).toBe(
      at(other, 'no ONNX weights: looked for onnx/model.onnx and model.onnx (it has model_O4.onnx: name one in model.json, e.g. "weights": {"fp32": "model_O4.onnx"}); export the model with `optimum-cli export onnx --model <model> <folder>`'),
    );
    await writeFile(path.join(other, 'model.json'), JSON.stringify({ weights: { fp32: 'model_O4.onnx' } }));
    expect((await readModelFolder(other, 'fp32')).weights).toBe('model_O4.onnx');
  });

  it('several sentence-transformers int8 files when the int8 variant is asked for', async () => {
    const dir = await copyExport('mpnet', async (d) => {
      await writeFile(path.join(d, 'onnx/model_quint8_avx2.onnx'), await readFile(path.join(d, 'onnx/model_qint8_avx512_vnni.onnx')));
    });
    expect(await refusal(() => readModelFolder(dir, 'quantized'))).toBe(
      at(dir, 'several int8 weights files (onnx/model_qint8_avx512_vnni.onnx, onnx/model_quint8_avx2.onnx): choose one in model.json, e.g. "weights": {"quantized": "onnx/model_qint8_avx512_vnni.onnx"}'),
    );
  });

  it('no usable length limit', async () => {
    const dir = await copyExport('distilbert', async (d) => {
      await editJson(path.join(d, 'tokenizer_config.json'), (j) => (j.model_max_length = 1e30));
      await editJson(path.join(d, 'config.json'), (j) => delete j.max_position_embeddings);
    });
    expect(await refusal(() => readModelFolder(dir, 'fp32'))).toBe(
      at(dir, 'cannot tell the longest input: tokenizer_config.json model_max_length is 1e+30 (no limit) and config.json has no max_position_embeddings; set "maxTokens" in model.json'),
    );
    const over = await copyExport('roberta', (d) => writeFile(path.join(d, 'model.json'), JSON.stringify({ maxTokens: 66 })));
    expect(await refusal(() => readModelFolder(over, 'fp32'))).toBe(
      at(over, 'model.json maxTokens 66 exceeds the 64 tokens config.json max_position_embeddings 66 - 2 (roberta positions start after the padding id) allows: lower it'),
    );
  });

  it('a sentence-transformers pooling or module the graph does not include', async () => {
    const maxPool = await copyExport('st-cls', (d) =>
      editJson(path.join(d, '1_Pooling/config.json'), (j) => ((j.pooling_mode_cls_token = false), (j.pooling_mode_max_tokens = true))),
    );
    expect(await refusal(() => load(maxPool))).toBe(
      at(maxPool, '1_Pooling/config.json asks for max pooling, which the gateway does not compute, and onnx/model.onnx has no sentence_embedding output (it has last_hidden_state): export the whole sentence-transformers pipeline: `optimum-cli export onnx --library sentence_transformers --model <model> <folder>` (its sentence_embedding output holds it)'),
    );
    const dense = await copyExport('mpnet', (d) =>
      editJson(path.join(d, 'modules.json'), (j) => j.splice(2, 0, { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' })),
    );
    expect(await refusal(() => load(dense))).toBe(
      at(dense, 'modules.json has Dense (2_Dense), which runs after pooling, and onnx/model.onnx has no sentence_embedding output (it has last_hidden_state): export the whole sentence-transformers pipeline: `optimum-cli export onnx --library sentence_transformers --model <model> <folder>` (its sentence_embedding output holds it)'),
    );
  });

  it('a misspelt model.json key, and a tokenizer.json that is not JSON', async () => {
    const typo = await copyExport('bert', (d) => writeFile(path.join(d, 'model.json'), JSON.stringify({ defualt: true })));
    expect(await refusal(() => readModelFolder(typo, 'fp32'))).toBe(
      at(typo, 'model.json is invalid: (root): Unrecognized key: "defualt"; model.json may hold task, version, labels, maxTokens, pooling, dimensions, normalize, fallback, default, baseline, weights'),
    );
    const bad = await copyExport('bert', (d) => writeFile(path.join(d, 'tokenizer.json'), '{"model": '));
    expect(await refusal(() => readModelFolder(bad, 'fp32'))).toMatch(new RegExp(`^model folder ${bad}: tokenizer\\.json is not valid JSON: `));
  });
});
