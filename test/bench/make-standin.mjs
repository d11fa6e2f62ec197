// A MiniLM-sized BERT compute stand-in with RANDOM weights: 6 layers, hidden 384, 12 heads,
// intermediate 1536, 512 positions, a pooler and a 2-label classifier head, written with onnx-proto
// (opset 17) as a complete model folder that the gateway and transformers.js can both load.
// Its answers mean nothing; its cost per token is what a real MiniLM-L6 classifier costs.
//
//   node test/bench/make-standin.mjs [--force] [--verify]
//
// The folder is cached in test/bench/.cache/models/minilm-standin/ and rebuilt only when the
// generator or the tokenizer it reuses changes (a hash of both is kept in .stamp).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE, REPO, loadCorpus, prng } from './traffic.mjs';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');

export const STANDIN_NAME = 'minilm-standin';
/** Bump when the graph or the files written change: cached folders are then rebuilt. */
const GENERATOR_VERSION = 3;

export const ARCH = {
  layers: 6,
  hidden: 384,
  heads: 12,
  intermediate: 1536,
  maxPositions: 512,
  typeVocab: 2,
  labels: ['ham', 'spam'],
  maxTokens: 256,
  layerNormEps: 1e-12,
  initStd: 0.02,
};

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const A = onnx.AttributeProto.AttributeType;

/** Where the stand-in's vocabulary comes from, in order of preference. */
function tokenizerSource() {
  for (const dir of [path.join(REPO, 'models/spam-bert'), path.join(REPO, 'models/training/out')]) {
    const file = path.join(dir, 'tokenizer.json');
    if (!existsSync(file)) continue;
    const json = JSON.parse(readFileSync(file, 'utf8'));
    if (json?.model?.type !== 'WordPiece') continue;
    const cfgFile = path.join(dir, 'tokenizer_config.json');
    const config = existsSync(cfgFile) ? JSON.parse(readFileSync(cfgFile, 'utf8')) : undefined;
    return { from: path.relative(REPO, file), json, config };
  }
  return undefined;
}

/** A WordPiece tokenizer.json built from the benchmark corpus, when the repository has none. */
async function generatedTokenizer(size = 30522) {
  const { docs } = await loadCorpus();
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const vocab = new Map(specials.map((t, i) => [t, i]));
  const add = (t) => vocab.has(t) || vocab.set(t, vocab.size);
  const chars = [];
  for (let c = 33; c < 127; c++) if (!(c >= 65 && c <= 90)) chars.push(String.fromCharCode(c));
  for (const c of chars) add(c);
  for (const c of chars) add(`##${c}`);
  const counts = new Map();
  for (const doc of docs) {
    for (const raw of doc) {
      for (const w of raw.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').split(/([^\p{L}\p{N}]+)/u)) {
        if (/^[a-z0-9]{2,24}$/.test(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    }
  }
  for (const [w] of [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    if (vocab.size >= size) break;
    add(w);
  }
  const added = specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: true, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab) },
  };
  return { from: `generated from the benchmark corpus (${vocab.size} entries)`, json, config: undefined };
}

// ---------------------------------------------------------------------------------------------
// The graph.

class GraphBuilder {
  constructor(seed) {
    this.nodes = [];
    this.initializers = [];
    this.rnd = prng(seed);
    this.spare = undefined;
    this.n = 0;
  }

  /** Standard normal draws (Box-Muller), from the seeded PRNG. */
  gauss() {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.rnd();
    const v = this.rnd();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  floatInit(name, dims, fill) {
    const size = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (fill === 'normal') for (let i = 0; i < size; i++) data[i] = this.gauss() * ARCH.initStd;
    else data.fill(fill);
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  int64Init(name, dims, values) {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims, dataType: INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** Adds a node; returns its (first) output name. */
  node(opType, inputs, attrs = {}, outputs = [`${opType.toLowerCase()}_${++this.n}`]) {
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
      if (Number.isInteger(v) && name !== 'epsilon') return { name, type: A.INT, i: v };
      return { name, type: A.FLOAT, f: v };
    });
    this.nodes.push({ opType, input: inputs, output: outputs, name: `${opType}_${this.n}`, attribute });
    return outputs[0];
  }

  /** x @ W + b with W [in, out] random normal, b zeros. */
  dense(x, prefix, inDim, outDim) {
    const w = this.floatInit(`${prefix}.weight`, [inDim, outDim], 'normal');
    const b = this.floatInit(`${prefix}.bias`, [outDim], 0);
    return this.node('Add', [this.node('MatMul', [x, w]), b]);
  }

  layerNorm(x, prefix) {
    const g = this.floatInit(`${prefix}.weight`, [ARCH.hidden], 1);
    const b = this.floatInit(`${prefix}.bias`, [ARCH.hidden], 0);
    return this.node('LayerNormalization', [x, g, b], { axis: -1, epsilon: ARCH.layerNormEps });
  }
}

/** Builds the ModelProto bytes for a vocabulary of `vocabSize` tokens. */
export function buildStandinOnnx(vocabSize, seed = 'minilm-standin-v1') {
  const { hidden: H, heads, intermediate: I, layers } = ARCH;
  const headDim = H / heads;
  const g = new GraphBuilder(seed);

  // Constants.
  const one1d = g.int64Init('const_one_1d', [1], [1]);
  const zero1d = g.int64Init('const_zero_1d', [1], [0]);
  const headShape = g.int64Init('const_head_shape', [4], [0, 0, heads, headDim]);
  const hiddenShape = g.int64Init('const_hidden_shape', [3], [0, 0, H]);
  const maskAxes = g.int64Init('const_mask_axes', [2], [1, 2]);
  const cls = g.int64Init('const_cls_index', [], [0]);
  const fOne = g.floatInit('const_one', [], 1);
  const fHalf = g.floatInit('const_half', [], 0.5);
  const fSqrt2 = g.floatInit('const_sqrt2', [], Math.SQRT2);
  const fScale = g.floatInit('const_attention_scale', [], Math.sqrt(headDim));
  const fMaskMin = g.floatInit('const_mask_min', [], -3.4028234663852886e38);

  // Embeddings: word + position + token type, then LayerNorm.
  const wordEmb = g.floatInit('embeddings.word_embeddings.weight', [vocabSize, H], 'normal');
  const posEmb = g.floatInit('embeddings.position_embeddings.weight', [ARCH.maxPositions, H], 'normal');
  const typeEmb = g.floatInit('embeddings.token_type_embeddings.weight', [ARCH.typeVocab, H], 'normal');
  const words = g.node('Gather', [wordEmb, 'input_ids'], { axis: 0 });
  const seqLen = g.node('Gather', [g.node('Shape', ['input_ids']), one1d], { axis: 0 }); // [1]
  const positions = g.node('Slice', [posEmb, zero1d, seqLen, zero1d]); // [S, H]
  const types = g.node('Gather', [typeEmb, 'token_type_ids'], { axis: 0 });
  let h = g.layerNorm(g.node('Add', [g.node('Add', [words, positions]), types]), 'embeddings.LayerNorm');

  // Additive attention-mask bias: 0 where attended, the lowest float where masked; [B, 1, 1, S].
  const maskF = g.node('Cast', ['attention_mask'], { to: FLOAT });
  const bias = g.node('Unsqueeze', [g.node('Mul', [g.node('Sub', [fOne, maskF]), fMaskMin]), maskAxes]);

  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}`;
    const split = (x, perm) => g.node('Transpose', [g.node('Reshape', [x, headShape])], { perm });
    const q = split(g.dense(h, `${p}.attention.self.query`, H, H), [0, 2, 1, 3]); // [B, h, S, d]
    const k = split(g.dense(h, `${p}.attention.self.key`, H, H), [0, 2, 3, 1]); // [B, h, d, S]
    const v = split(g.dense(h, `${p}.attention.self.value`, H, H), [0, 2, 1, 3]); // [B, h, S, d]
    const scores = g.node('Add', [g.node('Div', [g.node('MatMul', [q, k]), fScale]), bias]);
    const probs = g.node('Softmax', [scores], { axis: -1 });
    const context = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), hiddenShape]);
    const attended = g.node('Add', [g.dense(context, `${p}.attention.output.dense`, H, H), h]);
    const a = g.layerNorm(attended, `${p}.attention.output.LayerNorm`);
    // Feed-forward with exact GELU: x * 0.5 * (1 + erf(x / sqrt 2)).
    const up = g.dense(a, `${p}.intermediate.dense`, H, I);
    const gelu = g.node('Mul', [g.node('Mul', [up, g.node('Add', [g.node('Erf', [g.node('Div', [up, fSqrt2])]), fOne])]), fHalf]);
    const down = g.node('Add', [g.dense(gelu, `${p}.output.dense`, I, H), a]);
    h = g.layerNorm(down, `${p}.output.LayerNorm`);
  }

  // Pooler on [CLS], then the classifier.
  const first = g.node('Gather', [h, cls], { axis: 1 }); // [B, H]
  const pooled = g.node('Tanh', [g.dense(first, 'pooler.dense', H, H)]);
  const w = g.floatInit('classifier.weight', [H, ARCH.labels.length], 'normal');
  const b = g.floatInit('classifier.bias', [ARCH.labels.length], 0);
  g.node('Add', [g.node('MatMul', [pooled, w]), b], {}, ['logits']);

  const dim = (d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d });
  const io = (name, elemType, dims) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map(dim) } } } });
  const model = {
    irVersion: 8,
    producerName: 'nlp-gateway bench make-standin.mjs',
    producerVersion: String(GENERATOR_VERSION),
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'minilm_standin',
      node: g.nodes,
      initializer: g.initializers,
      input: ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => io(n, INT64, ['batch_size', 'sequence_length'])),
      output: [io('logits', FLOAT, ['batch_size', ARCH.labels.length])],
    },
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`invalid ModelProto: ${err}`);
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

// ---------------------------------------------------------------------------------------------
// The folder.

/** Ensures the stand-in folder exists and is current; returns its path. */
export async function ensureStandin({ force = false, log = console.error } = {}) {
  const folder = path.join(CACHE, 'models', STANDIN_NAME);
  const tok = tokenizerSource() ?? (await generatedTokenizer());
  const tokText = JSON.stringify(tok.json);
  const stamp = createHash('sha256').update(`v${GENERATOR_VERSION}\n${JSON.stringify(ARCH)}\n${tokText}`).digest('hex');
  const stampFile = path.join(folder, '.stamp');
  if (!force && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(path.join(folder, 'onnx/model.onnx'))) {
    return folder;
  }
  const started = performance.now();
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(path.join(folder, 'onnx'), { recursive: true });
  const vocabSize = Object.keys(tok.json.model.vocab).length;
  const bytes = buildStandinOnnx(vocabSize);
  writeFileSync(path.join(folder, 'onnx/model.onnx'), bytes);

  const id2label = Object.fromEntries(ARCH.labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(ARCH.labels.map((l, i) => [l, i]));
  const write = (name, value) => writeFileSync(path.join(folder, name), typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
  write('config.json', {
    _name_or_path: STANDIN_NAME,
    architectures: ['BertForSequenceClassification'],
    model_type: 'bert',
    vocab_size: vocabSize,
    hidden_size: ARCH.hidden,
    num_hidden_layers: ARCH.layers,
    num_attention_heads: ARCH.heads,
    intermediate_size: ARCH.intermediate,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: ARCH.maxPositions,
    type_vocab_size: ARCH.typeVocab,
    initializer_range: ARCH.initStd,
    layer_norm_eps: ARCH.layerNormEps,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    classifier_dropout: null,
    problem_type: 'single_label_classification',
    id2label,
    label2id,
    torch_dtype: 'float32',
  });
  write('tokenizer.json', tokText);
  write('tokenizer_config.json', {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: ARCH.maxTokens,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
    clean_up_tokenization_spaces: true,
    strip_accents: null,
    tokenize_chinese_chars: true,
  });
  write('special_tokens_map.json', { cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]' });
  write('model.json', { task: 'classification', version: '0.0.0-standin', labels: ARCH.labels, maxTokens: ARCH.maxTokens, default: true });
  write(
    'README.md',
    [
      `# ${STANDIN_NAME}`,
      '',
      'STAND-IN: random weights, for compute benchmarking only, its labels mean nothing.',
      '',
      `A BERT classifier the size of MiniLM-L6 (${ARCH.layers} layers, hidden ${ARCH.hidden}, ${ARCH.heads} heads,`,
      `intermediate ${ARCH.intermediate}, ${ARCH.maxPositions} positions, vocabulary ${vocabSize}) with seeded random weights,`,
      'written by test/bench/make-standin.mjs (ONNX opset 17, dynamic batch and sequence axes).',
      `Tokenizer: ${tok.from}. Generated; never commit it.`,
      '',
    ].join('\n'),
  );
  writeFileSync(stampFile, stamp);
  log(`stand-in: wrote ${path.relative(REPO, folder)} (${(bytes.length / 1e6).toFixed(1)} MB, vocab ${vocabSize} from ${tok.from}) in ${Math.round(performance.now() - started)} ms`);
  return folder;
}

/** Loads the folder in onnxruntime-node and times batch-1 runs at 128 tokens; returns ms per text. */
export async function verifyStandin(folder, { runs = 30, tokens = 128 } = {}) {
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(path.join(folder, 'onnx/model.onnx'));
  const dims = [1, tokens];
  const ids = BigInt64Array.from({ length: tokens }, (_, i) => BigInt(i === 0 ? 2 : i === tokens - 1 ? 3 : 5 + ((i * 7919) % 5000)));
  const feeds = {
    input_ids: new ort.Tensor('int64', ids, dims),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(tokens).fill(1n), dims),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(tokens), dims),
  };
  let out;
  for (let i = 0; i < 5; i++) out = await session.run(feeds);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    out = await session.run(feeds);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const logits = out.logits;
  if (logits.dims.join() !== '1,2' || ![...logits.data].every(Number.isFinite)) throw new Error(`bad logits ${logits.dims} ${logits.data}`);
  // A padded batch of 2 (second row half masked) must give row 0 the same logits as batch 1.
  const two = BigInt64Array.from([...ids, ...ids]);
  const mask = BigInt64Array.from({ length: 2 * tokens }, (_, i) => (i < tokens || i - tokens < tokens / 2 ? 1n : 0n));
  const padded = await session.run({
    input_ids: new ort.Tensor('int64', two, [2, tokens]),
    attention_mask: new ort.Tensor('int64', mask, [2, tokens]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(2 * tokens), [2, tokens]),
  });
  const drift = Math.max(Math.abs(padded.logits.data[0] - logits.data[0]), Math.abs(padded.logits.data[1] - logits.data[1]));
  await session.release();
  return { msPerText: times[Math.floor(runs / 2)], minMs: times[0], tokens, logits: [...logits.data], batchDrift: drift };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const folder = await ensureStandin({ force: args.includes('--force') });
  console.log(folder);
  if (args.includes('--verify')) {
    const v = await verifyStandin(folder);
    console.log(`onnxruntime-node: ${v.msPerText.toFixed(2)} ms/text (median, min ${v.minMs.toFixed(2)}) at ${v.tokens} tokens, batch 1, default options; logits ${v.logits.map((x) => x.toFixed(3))}; padded-batch drift ${v.batchDrift.toExponential(1)}`);
  }
}
