// Token ids of a text chunk by chunk, for the BERT family of tokenizers. Where the normalizer works
// character by character (BertNormalizer, lowercasing, Unicode normal forms, accent stripping), the
// pre-tokenizer splits at whitespace (BertPreTokenizer, WhitespaceSplit, Whitespace) and the model
// works word by word (WordPiece, WordLevel), a space, tab or line break can never be inside a token:
// the ids of a text are the ids of its chunks between such characters, one after another. Chunks
// repeat (words follow Zipf's law), so their ids are memoised: a text costs a few map lookups
// instead of a pass through the whole pipeline, and a long text is read only as far as the model
// needs. Chunking only at [ \t\n\r] is deliberate: other characters JavaScript calls whitespace (\v,
// \f, U+2028, U+FEFF, ...) are control or format characters to BERT, which removes them rather
// than splitting at them. A test checks ids against the whole-text pipeline on real and Unicode
// stress texts.
import type { Tokenizer } from '@huggingface/tokenizers';
import { LRUCache } from 'lru-cache';

const CHARACTER_NORMALIZERS = new Set(['BertNormalizer', 'Lowercase', 'NFD', 'NFC', 'NFKD', 'NFKC', 'StripAccents']);
const WHITESPACE_PRE_TOKENIZERS = new Set(['BertPreTokenizer', 'WhitespaceSplit', 'Whitespace']);
const WORD_MODELS = new Set(['WordPiece', 'WordLevel']);

/** Chunks longer than this are tokenized without being remembered (they rarely repeat). */
const MAX_MEMO_CHARS = 64;

interface Step {
  type?: string;
  normalizers?: Step[];
  pretokenizers?: Step[];
}

function allOf(step: Step | null | undefined, kinds: Set<string>, list: 'normalizers' | 'pretokenizers'): boolean {
  if (!step) return true;
  if (step.type === 'Sequence') return (step[list] ?? []).every((s) => allOf(s, kinds, list));
  return kinds.has(step.type ?? '');
}

/** Whether tokenizer.json's pipeline splits only at whitespace and works within words (see above). */
export function chunkable(tokenizerJson: object): boolean {
  const t = tokenizerJson as { normalizer?: Step | null; pre_tokenizer?: Step | null; model?: { type?: string } };
  return (
    allOf(t.normalizer, CHARACTER_NORMALIZERS, 'normalizers') &&
    !!t.pre_tokenizer &&
    allOf(t.pre_tokenizer, WHITESPACE_PRE_TOKENIZERS, 'pretokenizers') &&
    WORD_MODELS.has(t.model?.type ?? '')
  );
}

export class ChunkIds {
  private readonly memo: LRUCache<string, readonly number[]>;

  constructor(
    private readonly tokenizer: Tokenizer,
    maxChunks = 100_000,
  ) {
    this.memo = new LRUCache({ max: maxChunks });
  }

  /**
   * The content ids of `text` (no special tokens), chunk by chunk until more than `room` ids have
   * been read (or the text ends); `complete` says whether the whole text was read.
   */
  read(text: string, room: number): { ids: number[]; complete: boolean } {
    const ids: number[] = [];
    const chunks = /[^ \t\n\r]+/g;
    for (let m = chunks.exec(text); m; m = chunks.exec(text)) {
      for (const id of this.of(m[0])) ids.push(id);
      if (ids.length > room) return { ids, complete: chunks.exec(text) === null };
    }
    return { ids, complete: true };
  }

  private of(chunk: string): readonly number[] {
    const known = this.memo.get(chunk);
    if (known) return known;
    const ids = this.tokenizer.encode(chunk, { add_special_tokens: false }).ids;
    if (chunk.length <= MAX_MEMO_CHARS) this.memo.set(chunk, ids);
    return ids;
  }
}
