"""BERT (uncased) tokenizer that reproduces, id for id, what @huggingface/tokenizers (the pure-JS
Tokenizers.js used by the gateway) computes from the tokenizer.json written by build_vocab.py.

The JS pipeline (dist/tokenizers.mjs, v0.2.0) is, in order:
  1. split the raw text on the special tokens ([PAD] [UNK] [CLS] [SEP] [MASK]; normalized=false,
     no lstrip/rstrip), each occurrence becomes that special token;
  2. BertNormalizer on every other section:
       clean_text     drop U+0000, U+FFFD and chars of category Cc/Cf/Co/Cs (except \t \n \r),
                      map every JS-whitespace char (\s) to ' ';
       chinese chars  pad ' ' around CJK chars, looking at UTF-16 code units (so only BMP ranges);
       lowercase      String.prototype.toLowerCase (full mapping, final sigma) ~ str.lower();
       strip accents  NFD, then drop category Mn;
  3. BertPreTokenizer: runs of chars that are neither JS-whitespace nor punctuation, or single
     punctuation chars (\\p{P} plus the ASCII symbol ranges !-/ :-@ [-` {-~);
  4. WordPiece: greedy longest match, '##' continuation prefix, a word longer than 100 code points
     or with an unmatchable rest becomes [UNK].
  5. [CLS] ... [SEP].
"""
import json
import os
import re
import unicodedata

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PAD, UNK, CLS, SEP, MASK = range(5)

# ECMAScript \s: WhiteSpace + LineTerminator.
JS_WS = set("\t\n\u000b\u000c\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | {
    chr(c) for c in range(0x2000, 0x200B)
}
_CONTROL_CATS = {"Cc", "Cf", "Co", "Cs"}


class _JsUnicode:
    """Node's (ICU's) Unicode tables, dumped by js_unicode_table.mjs: Python's unicodedata is an
    older Unicode version (14 vs 17 in Node 20), which changes a few dozen code points."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            t = json.load(f)
        self.version = t["unicode"]
        self.punct = self._expand(t["punct"])
        self.mn = self._expand(t["mn"])
        self.control = self._expand(t["control"])
        low = {chr(int(k)): v for k, v in t["lower"].items()}
        nfd = {chr(int(k)): v for k, v in t["nfd"].items()}
        # characters whose single-char lowercase / NFD differ between Python and JS
        self.lower_fix = {}
        self.nfd_fix = {}
        for cp in range(0x110000):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            c = chr(cp)
            jl = low.get(c, c)
            if c.lower() != jl and c != "\u03a3":
                self.lower_fix[c] = jl
            jd = nfd.get(c, c)
            if unicodedata.normalize("NFD", c) != jd:
                self.nfd_fix[c] = jd
        self.lower_re = re.compile("[" + "".join(map(re.escape, self.lower_fix)) + "]") if self.lower_fix else None
        self.nfd_re = re.compile("[" + "".join(map(re.escape, self.nfd_fix)) + "]") if self.nfd_fix else None

    @staticmethod
    def _expand(ranges):
        s = set()
        for a, b in ranges:
            s.update(range(a, b + 1))
        return frozenset(s)


_JS_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js_unicode.json")
JSU = _JsUnicode(_JS_TABLE) if os.path.exists(_JS_TABLE) else None


def _category_control(ch):
    if JSU is not None:
        return ord(ch) in JSU.control
    return unicodedata.category(ch) in _CONTROL_CATS


def _is_mn(ch):
    if JSU is not None:
        return ord(ch) in JSU.mn
    return unicodedata.category(ch) == "Mn"


def _lower(text):
    if JSU is not None and JSU.lower_re is not None and not text.isascii():
        text = JSU.lower_re.sub(lambda m: JSU.lower_fix[m.group(0)], text)
    return text.lower()


def _nfd(text):
    if JSU is not None and JSU.nfd_re is not None and not text.isascii():
        text = JSU.nfd_re.sub(lambda m: JSU.nfd_fix[m.group(0)], text)
    return unicodedata.normalize("NFD", text)
_SPECIAL_RE = re.compile("|".join(re.escape(s) for s in SPECIALS))


def _is_chinese_bmp(cp):
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF


def _is_punct(ch):
    cp = ord(ch)
    if 0x21 <= cp <= 0x2F or 0x3A <= cp <= 0x40 or 0x5B <= cp <= 0x60 or 0x7B <= cp <= 0x7E:
        return True
    if JSU is not None:
        return cp in JSU.punct
    return unicodedata.category(ch).startswith("P")


_char_class_cache = {}


def _clean_char(ch):
    """'' to drop, ' ' for whitespace, else the char (clean_text + chinese padding)."""
    r = _char_class_cache.get(ch)
    if r is None:
        cp = ord(ch)
        if ch in "\t\n\r":
            r = " "
        elif cp == 0 or cp == 0xFFFD or _category_control(ch):
            r = ""
        elif ch in JS_WS:
            r = " "
        elif _is_chinese_bmp(cp):
            r = " " + ch + " "
        else:
            r = ch
        _char_class_cache[ch] = r
    return r


def normalize(text):
    text = "".join(_clean_char(c) for c in text)
    text = _lower(text)
    text = _nfd(text)
    if not text.isascii():
        text = "".join(c for c in text if not _is_mn(c))
    return text


_punct_cache = {}


def pre_tokenize(text):
    words = []
    cur = []
    for c in text:
        if c in JS_WS:
            if cur:
                words.append("".join(cur))
                cur = []
            continue
        p = _punct_cache.get(c)
        if p is None:
            p = _punct_cache[c] = _is_punct(c)
        if p:
            if cur:
                words.append("".join(cur))
                cur = []
            words.append(c)
        else:
            cur.append(c)
    if cur:
        words.append("".join(cur))
    return words


def basic_tokenize(text):
    """Normalised words of a text, special-token strings kept as single words (used by the
    vocabulary builder, which must not learn pieces from them)."""
    out = []
    for sec in _split_specials(text):
        if sec in SPECIALS:
            out.append(sec)
        else:
            out.extend(pre_tokenize(normalize(sec)))
    return out


def _split_specials(text):
    pos = 0
    for m in _SPECIAL_RE.finditer(text):
        if m.start() > pos:
            yield text[pos:m.start()]
        yield m.group(0)
        pos = m.end()
    if pos < len(text):
        yield text[pos:]


class WordPieceTokenizer:
    def __init__(self, vocab, max_chars=100):
        if isinstance(vocab, (list, tuple)):
            vocab = {t: i for i, t in enumerate(vocab)}
        self.vocab = vocab
        self.max_chars = max_chars
        self._cache = {}

    @classmethod
    def from_vocab_file(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls([line.rstrip("\n") for line in f])

    def word_ids(self, word):
        r = self._cache.get(word)
        if r is not None:
            return r
        v = self.vocab
        if len(word) > self.max_chars:
            r = [UNK]
        else:
            r = []
            start, n = 0, len(word)
            while start < n:
                end = n
                hit = None
                while start < end:
                    sub = word[start:end] if start == 0 else "##" + word[start:end]
                    hit = v.get(sub)
                    if hit is not None:
                        break
                    end -= 1
                if hit is None:
                    r = [UNK]
                    break
                r.append(hit)
                start = end
        if len(self._cache) < 500000:
            self._cache[word] = r
        return r

    def content_ids(self, text):
        """Ids of the text without [CLS]/[SEP]."""
        ids = []
        for sec in _split_specials(text):
            if sec in SPECIALS:
                ids.append(self.vocab[sec])
                continue
            for w in pre_tokenize(normalize(sec)):
                ids.extend(self.word_ids(w))
        return ids

    def encode(self, text, max_len=None):
        """[CLS] ids [SEP]; with max_len, keep the first max_len-2 content ids. Returns
        (ids, full_length_including_specials)."""
        ids = self.content_ids(text)
        full = len(ids) + 2
        if max_len is not None and full > max_len:
            ids = ids[: max_len - 2]
        return [CLS] + ids + [SEP], full

    def encode_prefix(self, text, max_len, chars_per_token_guess=12):
        """Same result as encode(text, max_len)[0] but tokenises only a prefix of long texts."""
        limit = max_len * chars_per_token_guess
        while limit < len(text):
            # cut at whitespace so that no word is split
            cut = text.rfind(" ", 0, limit)
            cut2 = text.rfind("\n", 0, limit)
            cut = max(cut, cut2)
            if cut <= 0:
                break
            ids = self.content_ids(text[:cut])
            if len(ids) >= max_len - 1:
                return [CLS] + ids[: max_len - 2] + [SEP]
            limit *= 2
        return self.encode(text, max_len)[0]
