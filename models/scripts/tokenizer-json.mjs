// Word-level tokenizer files (Hugging Face `tokenizers` format) for the GloVe vocabulary.
//
// The pipeline written into tokenizer.json is BertNormalizer (clean text, CJK spacing, lowercase and
// accent stripping) -> BertPreTokenizer (split on whitespace and on every punctuation character) ->
// WordLevel lookup. A GloVe word can only ever be produced by that pipeline if it survives the
// normaliser unchanged and is either one run of non-punctuation characters or a single punctuation
// character; `isReachable` implements that test so that no vocabulary slot is spent on a word such
// as "n't", "u.s." or "well-known" that the pre-tokenizer would always split apart.

export const PAD_TOKEN = '[PAD]';
export const UNK_TOKEN = '[UNK]';
export const PAD_ID = 0;
export const UNK_ID = 1;

/** BERT's notion of punctuation: the four ASCII symbol ranges plus every Unicode P* category. */
export function isBertPunctuation(ch) {
  const cp = ch.codePointAt(0);
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  return /^\p{P}$/u.test(ch);
}

/** CJK ideographs, which BertNormalizer surrounds with spaces (so they are always single tokens). */
export function isCjk(cp) {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** What the normaliser does to one word: lowercase, then NFD and drop non-spacing marks. */
export function normalizeWord(word) {
  return word.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
}

/** True when the tokenizer pipeline above can emit `word` as one token. */
export function isReachable(word) {
  if (word.length === 0 || word === PAD_TOKEN || word === UNK_TOKEN) return false;
  if (normalizeWord(word) !== word) return false;
  const chars = [...word];
  for (const ch of chars) {
    const cp = ch.codePointAt(0);
    if (/^[\s\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u.test(ch) || cp === 0xfffd || isCjk(cp)) {
      return chars.length === 1 && isCjk(cp);
    }
  }
  if (chars.length === 1) return true;
  return !chars.some(isBertPunctuation);
}

/**
 * The first `size` reachable words of a frequency-ordered word list.
 * @param {string[]} words most frequent first
 * @param {number} size
 * @returns {string[]}
 */
export function selectVocabulary(words, size) {
  const out = [];
  const seen = new Set();
  for (const w of words) {
    if (out.length >= size) break;
    if (seen.has(w) || !isReachable(w)) continue;
    seen.add(w);
    out.push(w);
  }
  if (out.length < size) throw new Error(`only ${out.length} reachable words, wanted ${size}`);
  return out;
}

function specialToken(id, content) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/**
 * tokenizer.json contents: [PAD] = 0, [UNK] = 1, then `words` from id 2 on.
 * @param {string[]} words
 */
export function tokenizerJson(words) {
  const vocab = { [PAD_TOKEN]: PAD_ID, [UNK_TOKEN]: UNK_ID };
  words.forEach((w, i) => {
    vocab[w] = i + 2;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [specialToken(PAD_ID, PAD_TOKEN), specialToken(UNK_ID, UNK_TOKEN)],
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab, unk_token: UNK_TOKEN },
  };
}

/**
 * tokenizer.json as text: pretty-printed like the Hugging Face writer, with the vocabulary written in
 * id order (a plain JSON.stringify would move integer-like keys such as "2002" to the front).
 * @param {string[]} words
 */
export function tokenizerJsonText(words) {
  const obj = tokenizerJson(words);
  const marker = '@@VOCAB@@';
  obj.model.vocab = marker;
  const entries = [PAD_TOKEN, UNK_TOKEN, ...words].map((w, i) => `      ${JSON.stringify(w)}: ${i}`);
  const text = JSON.stringify(obj, null, 2).replace(JSON.stringify(marker), () => `{\n${entries.join(',\n')}\n    }`);
  return `${text}\n`;
}

/** tokenizer_config.json contents. */
export function tokenizerConfig(maxTokens) {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: maxTokens,
    pad_token: PAD_TOKEN,
    unk_token: UNK_TOKEN,
    do_lower_case: true,
    clean_up_tokenization_spaces: false,
    model_input_names: ['input_ids', 'attention_mask'],
    added_tokens_decoder: {
      [PAD_ID]: { content: PAD_TOKEN, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
      [UNK_ID]: { content: UNK_TOKEN, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true },
    },
  };
}
