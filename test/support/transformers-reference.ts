// @huggingface/transformers on the export fixtures, local files only: its tokenizer, its
// text-classification and feature-extraction pipelines, and its models run on given ids (post-processed
// with its own softmax, pooling and normalisation). What the gateway's answers are compared with.
//
// One difference is known and measured by the tests: transformers.js 4.3.1 truncates a long text by
// cutting the encoded ids at model_max_length, after the special tokens were added, so the final
// [SEP] / </s> is lost. Python's transformers and sentence-transformers (and the gateway) cut the text
// and keep both special tokens. For texts over the limit the reference is therefore transformers.js's
// model run on its own ids truncated the way Python's transformers truncates them (`truncatedIds`).
import { AutoModel, AutoTokenizer, env, mean_pooling, pipeline, softmax, Tensor } from '@huggingface/transformers';
import { EXPORTS, type ExportFixture, type Variant } from './exports.js';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = `${EXPORTS}/`;

type Tokenizer = Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
type PreTrainedModel = Awaited<ReturnType<typeof AutoModel.from_pretrained>>;

export interface ReferenceTokenizer {
  /** transformers.js's ids with truncation at model_max_length (its own way: the last special token may be cut). */
  ids(text: string): number[];
  /** Ids truncated as Python's transformers truncates: text tokens cut, special tokens kept at both ends. */
  truncatedIds(text: string): number[];
  /** Tokens of the whole text, special tokens included. */
  fullLength(text: string): number;
  maxTokens: number;
  padId: number;
}

export async function referenceTokenizer(f: ExportFixture): Promise<ReferenceTokenizer> {
  const tok: Tokenizer = await AutoTokenizer.from_pretrained(f.name);
  const encode = (text: string, options: Record<string, unknown>) =>
    Array.from((tok(text, options).input_ids as Tensor).data as BigInt64Array, Number);
  const max = tok.model_max_length;
  return {
    ids: (t) => encode(t, { truncation: true }),
    fullLength: (t) => encode(t, {}).length,
    truncatedIds(text) {
      const full = encode(text, {});
      if (full.length <= max) return full;
      const content = encode(text, { add_special_tokens: false });
      const prefix = full.findIndex((_, i) => content.every((id, j) => full[i + j] === id));
      const suffix = full.length - prefix - content.length;
      return [...full.slice(0, prefix), ...content.slice(0, max - prefix - suffix), ...full.slice(full.length - suffix)];
    },
    maxTokens: max,
    padId: Number(tok.pad_token_id),
  };
}

const fileOptions = (f: ExportFixture, v: Variant) => ({
  subfolder: f.subfolder,
  model_file_name: v === 'fp32' ? f.fp32 : f.int8,
  dtype: 'fp32' as const, // no suffix: model_file_name is the whole base name
});

/** Runs `model` on rows of ids as one right-padded batch (transformers.js adds token_type_ids itself). */
async function runIds(model: PreTrainedModel, rows: number[][], padId: number): Promise<{ out: Record<string, Tensor>; mask: Tensor }> {
  const width = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(rows.length * width);
  rows.forEach((r, b) =>
    r.forEach((id, i) => {
      ids[b * width + i] = BigInt(id);
      mask[b * width + i] = 1n;
    }),
  );
  const attention = new Tensor('int64', mask, [rows.length, width]);
  const out = (await model({ input_ids: new Tensor('int64', ids, [rows.length, width]), attention_mask: attention })) as Record<string, Tensor>;
  return { out, mask: attention };
}

const rowsOf = (t: Tensor) => t.tolist() as number[][];

export interface ReferenceClassifier {
  /** The text-classification pipeline (top_k: null) on the texts as one batch: all labels with scores. */
  pipeline(texts: string[]): Promise<Map<string, number>[]>;
  /** The same model on given ids as one batch, scores by the pipeline's softmax. */
  ids(rows: number[][]): Promise<Map<string, number>[]>;
  dispose(): Promise<void>;
}

export async function referenceClassifier(f: ExportFixture, v: Variant, padId: number): Promise<ReferenceClassifier> {
  const pipe = await pipeline('text-classification', f.name, fileOptions(f, v));
  const id2label = (pipe.model.config as unknown as { id2label: Record<string, string> }).id2label;
  return {
    async pipeline(texts) {
      const out = (await pipe(texts, { top_k: null })) as unknown as { label: string; score: number }[][];
      return out.map((rows) => new Map(rows.map((r) => [r.label, r.score])));
    },
    async ids(rows) {
      const { out } = await runIds(pipe.model, rows, padId);
      return rowsOf(out.logits!).map((logits) => new Map(softmax(logits).map((p, i) => [id2label[String(i)]!, p])));
    },
    dispose: async () => void (await pipe.dispose()),
  };
}

export interface ReferenceEmbedder {
  /** The feature-extraction pipeline (or, for a sentence_embedding graph, the model's own output) on the texts as one batch. */
  pipeline(texts: string[], normalize: boolean): Promise<number[][]>;
  /** The same model on given ids as one batch, pooled and normalised by transformers.js's own functions. */
  ids(rows: number[][], normalize: boolean): Promise<number[][]>;
  dispose(): Promise<void>;
}

export async function referenceEmbedder(f: ExportFixture, v: Variant, padId: number): Promise<ReferenceEmbedder> {
  const finish = (out: Record<string, Tensor>, mask: Tensor, normalize: boolean) => {
    let t: Tensor;
    if (f.pooling === 'sentence_embedding') t = out.sentence_embedding!;
    else {
      const tokens = (out.last_hidden_state ?? out.token_embeddings)!;
      t = f.pooling === 'mean' ? mean_pooling(tokens, mask) : tokens.slice(null, 0);
    }
    return rowsOf(normalize ? t.normalize(2, -1) : t);
  };
  if (f.pooling === 'sentence_embedding') {
    // The feature-extraction pipeline reads token outputs only; the model's own output is the reference.
    const tok: Tokenizer = await AutoTokenizer.from_pretrained(f.name);
    const model = await AutoModel.from_pretrained(f.name, fileOptions(f, v));
    return {
      async pipeline(texts, normalize) {
        const inputs = tok(texts, { padding: true, truncation: true });
        return finish((await model(inputs)) as Record<string, Tensor>, inputs.attention_mask as Tensor, normalize);
      },
      async ids(rows, normalize) {
        const { out, mask } = await runIds(model, rows, padId);
        return finish(out, mask, normalize);
      },
      dispose: async () => void (await model.dispose()),
    };
  }
  const pipe = await pipeline('feature-extraction', f.name, fileOptions(f, v));
  return {
    async pipeline(texts, normalize) {
      return rowsOf(await pipe(texts, { pooling: f.pooling as 'mean' | 'cls', normalize }));
    },
    async ids(rows, normalize) {
      const { out, mask } = await runIds(pipe.model, rows, padId);
      return finish(out, mask, normalize);
    },
    dispose: async () => void (await pipe.dispose()),
  };
}
