// WordPiece splits each word by trying ever shorter substrings against the vocabulary: most of the
// tokenizer's time on ordinary text (55% in a profile of the mail corpus), spent again on every
// repeat of a common word. Words repeat (Zipf), and a word's pieces depend on the word alone, so a
// bounded memo in front of the model's per-word step gives the same ids for a fraction of the cost.
// It wraps @huggingface/tokenizers' WordPiece model object (not a public API: when its shape is not
// what we expect, nothing is wrapped); a test checks ids against the unwrapped tokenizer on real mail.
import { LRUCache } from 'lru-cache';

interface WordPieceModel {
  config?: { type?: string };
  encode(tokens: string[]): string[];
}

/** Memoizes `tokenizer`'s WordPiece step over at most `maxWords` words; returns whether it did. */
export function memoizeWordPiece(tokenizer: object, maxWords = 50_000): boolean {
  const model = (tokenizer as { model?: WordPieceModel }).model;
  if (!model || model.config?.type !== 'WordPiece' || typeof model.encode !== 'function') return false;
  const split = model.encode.bind(model);
  const memo = new LRUCache<string, string[]>({ max: maxWords });
  model.encode = (words: string[]): string[] => {
    const out: string[] = [];
    for (const word of words) {
      let pieces = memo.get(word);
      if (!pieces) {
        pieces = split([word]);
        memo.set(word, pieces);
      }
      for (const p of pieces) out.push(p);
    }
    return out;
  };
  return true;
}
