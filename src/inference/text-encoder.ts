// Text -> token ids with exact truncation, over a tokenizer.json loaded by @huggingface/tokenizers
// (the tokenizer implementation @huggingface/transformers uses). Never touches a network.
import { Tokenizer } from '@huggingface/tokenizers';
import { ChunkIds, chunkable } from './chunk-ids.js';
import { memoizeWordPiece } from './word-piece-memo.js';

/** What a TextEncoder is built from: plain data, so that another thread can build the same one. */
export interface EncoderSource {
  /** Parsed tokenizer.json. */
  tokenizer: object;
  /** Parsed tokenizer_config.json. */
  config: object;
  maxTokens: number;
}

/** Builds the encoder of a model folder's tokenizer files (throws when they cannot be loaded). */
export function createTextEncoder(source: EncoderSource): TextEncoder {
  const tokenizer = new Tokenizer(source.tokenizer, source.config);
  // The BERT family is read chunk by chunk from memory (chunk-ids.ts); other WordPiece pipelines
  // still memoise their per-word step.
  const chunks = chunkable(source.tokenizer) ? new ChunkIds(tokenizer) : undefined;
  if (!chunks) memoizeWordPiece(tokenizer);
  const bertSplits = (source.tokenizer as { pre_tokenizer?: { type?: string } }).pre_tokenizer?.type === 'BertPreTokenizer';
  return new TextEncoder(tokenizer, source.maxTokens, bertSplits, source, chunks);
}

export interface EncodedText {
  /** Token ids fed to the model, special tokens included. */
  ids: Int32Array;
  /** Tokens the text has in full, special tokens included (>= ids.length); a lower bound when truncated. */
  fullLength: number;
  truncated: boolean;
  /** How many of the fed ids are the unknown token (drift signal). */
  unknown: number;
}

/** Characters tokenized per step when a text may be longer than the model takes. */
const CHARS_PER_TOKEN_GUESS = 8;

export class TextEncoder {
  private readonly prefix: number[];
  private readonly suffix: number[];
  private readonly unkId: number | undefined;
  readonly padId: number;

  private readonly boundary: RegExp;

  /**
   * @param bertSplits the pre-tokenizer splits around every punctuation mark and CJK ideograph (BERT's
   *   does), so a text may also be cut before one of those, not only before whitespace.
   */
  constructor(
    private readonly tokenizer: Tokenizer,
    readonly maxTokens: number,
    bertSplits = false,
    /** Where it was built from, when known (lets a tokenizer thread build the same encoder). */
    readonly source?: EncoderSource,
    /** Reads the BERT family chunk by chunk from memory (chunk-ids.ts); absent, texts go through the pipeline. */
    private readonly chunks?: ChunkIds,
  ) {
    this.boundary = bertSplits ? BERT_BOUNDARY : /\s/;
    // The post-processor's special tokens around one sequence ([CLS] ... [SEP] for BERT, none for a
    // word-level model), found by encoding a probe with and without them.
    const probe = tokenizer.encode('probe', { add_special_tokens: false }).ids;
    const full = tokenizer.encode('probe', { add_special_tokens: true }).ids;
    const at = indexOfRun(full, probe);
    if (at < 0) throw new Error('tokenizer post-processor does not keep the text tokens in one run');
    this.prefix = full.slice(0, at);
    this.suffix = full.slice(at + probe.length);
    if (this.prefix.length + this.suffix.length >= maxTokens) {
      throw new Error(`maxTokens ${maxTokens} leaves no room for text after special tokens`);
    }
    const vocab = tokenizer.get_vocab(true);
    // The tokens tokenizer_config.json names first: a vocabulary may hold both spellings (MPNet's has
    // [PAD] and [UNK] from BERT's, but pads with <pad>).
    const named = (source?.config ?? {}) as { pad_token?: unknown; unk_token?: unknown };
    this.unkId = idOf(vocab, named.unk_token) ?? firstDefined(vocab, ['[UNK]', '<unk>', '[unk]']);
    this.padId = idOf(vocab, named.pad_token) ?? firstDefined(vocab, ['[PAD]', '<pad>', '[pad]']) ?? 0;
  }

  get specialTokens(): number {
    return this.prefix.length + this.suffix.length;
  }

  /**
   * Encodes `text`, keeping at most maxTokens ids (special tokens kept at both ends). Long texts are
   * tokenized in growing prefixes cut at whitespace, so a 100k-character input costs about what the
   * model can use; since the pre-tokenizer splits at those boundaries, a prefix tokenizes exactly as
   * the same characters do inside the whole text. A text cut short reports only that it has more
   * than maxTokens tokens (counting the rest would cost what the model never reads).
   */
  encode(text: string): EncodedText {
    const room = this.maxTokens - this.specialTokens;
    const { content, complete } = this.contentPrefix(text, room);
    const truncated = content.length > room;
    const kept = truncated ? content.slice(0, room) : content;
    const ids = new Int32Array(this.prefix.length + kept.length + this.suffix.length);
    ids.set(this.prefix, 0);
    ids.set(kept, this.prefix.length);
    ids.set(this.suffix, this.prefix.length + kept.length);
    // An incomplete scan knows only a lower bound of the full length, and only needs it when truncated.
    const fullLength = content.length + this.specialTokens;
    let unknown = 0;
    if (this.unkId !== undefined) for (const id of kept) if (id === this.unkId) unknown++;
    return { ids, fullLength: complete ? fullLength : Math.max(fullLength, this.maxTokens + 1), truncated, unknown };
  }

  private contentIds(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  private contentPrefix(text: string, room: number): { content: number[]; complete: boolean } {
    if (this.chunks) {
      const { ids, complete } = this.chunks.read(text, room);
      return { content: ids, complete };
    }
    let window = Math.max(256, room * CHARS_PER_TOKEN_GUESS);
    for (;;) {
      if (window >= text.length) return { content: this.contentIds(text), complete: true };
      const cut = boundaryCut(text, window, this.boundary);
      if (cut >= text.length) return { content: this.contentIds(text), complete: true };
      const ids = this.contentIds(text.slice(0, cut));
      // More than `room` tokens in the prefix: the first `room` are final whatever follows the cut.
      if (ids.length > room) return { content: ids, complete: false };
      window *= 4;
    }
  }
}

/** Characters before which BERT's pre-tokenizer always starts a new word. */
const BERT_BOUNDARY = /[\s\p{P}\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]/u;

/** First index at or after `from` where a new word starts, so the cut never splits one. */
function boundaryCut(text: string, from: number, boundary: RegExp): number {
  const m = boundary.exec(text.slice(from));
  return m ? from + m.index : text.length;
}

function indexOfRun(haystack: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** A token given as tokenizer_config.json gives it: a string or an added-token object with `content`. */
function idOf(vocab: Map<string, number>, token: unknown): number | undefined {
  const content = typeof token === 'string' ? token : (token as { content?: unknown } | null)?.content;
  return typeof content === 'string' ? vocab.get(content) : undefined;
}

function firstDefined(vocab: Map<string, number>, names: string[]): number | undefined {
  for (const n of names) {
    const id = vocab.get(n);
    if (id !== undefined) return id;
  }
  return undefined;
}
