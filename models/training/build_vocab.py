"""Learn a WordPiece vocabulary from the training split and write vocab.txt + tokenizer.json.

Like the Hugging Face WordPieceTrainer, pieces are learnt by frequency-ranked pair merges over
the basic-tokenised words ("##" marks a non-initial piece); the result is then applied with
greedy longest-match WordPiece.  Vocabulary = 5 special tokens + every character seen in the
training texts (plain and "##" form) + the merged pieces/words, up to --size entries.

  /usr/bin/python3 models/training/build_vocab.py --data /tmp/mails.jsonl --out models/training/out
"""
import argparse
import collections
import heapq
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_tokenizer import SPECIALS, basic_tokenize  # noqa: E402


def learn(word_counts, size, min_pair=2):
    chars = collections.Counter()
    for w, c in word_counts.items():
        if w in SPECIALS:
            continue
        for i, ch in enumerate(w):
            chars[ch if i == 0 else "##" + ch] += c
    base = sorted({k.lstrip("#") if k.startswith("##") else k for k in chars})
    vocab = list(SPECIALS)
    seen = set(vocab)
    for ch in base:
        for t in (ch, "##" + ch):
            if t not in seen:
                seen.add(t)
                vocab.append(t)
    # words as lists of symbols
    words = []
    freqs = []
    for w, c in word_counts.items():
        if w in SPECIALS or len(w) < 2 or len(w) > 100:
            continue
        words.append([w[0]] + ["##" + ch for ch in w[1:]])
        freqs.append(c)
    pair_count = collections.defaultdict(int)
    where = collections.defaultdict(set)
    for wi, syms in enumerate(words):
        f = freqs[wi]
        for a, b in zip(syms, syms[1:]):
            pair_count[(a, b)] += f
            where[(a, b)].add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)

    def merged(a, b):
        return a + b[2:]

    while len(vocab) < size and heap:
        negc, pair = heapq.heappop(heap)
        c = pair_count.get(pair, 0)
        if c != -negc:
            if c > 0:
                heapq.heappush(heap, (-c, pair))
            continue
        if c < min_pair:
            break
        a, b = pair
        new = merged(a, b)
        if new not in seen:
            seen.add(new)
            vocab.append(new)
        changed = collections.defaultdict(int)
        for wi in list(where[pair]):
            syms = words[wi]
            f = freqs[wi]
            # remove old pairs of this word
            for p in zip(syms, syms[1:]):
                pair_count[p] -= f
                changed[p] += 0
            out = []
            i = 0
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            words[wi] = out
            for p in zip(out, out[1:]):
                pair_count[p] += f
                where[p].add(wi)
                changed[p] += 0
        del where[pair]
        pair_count.pop(pair, None)
        for p in changed:
            cnt = pair_count.get(p, 0)
            if cnt > 0:
                heapq.heappush(heap, (-cnt, p))
            elif p in pair_count:
                del pair_count[p]
    return vocab


def tokenizer_json(vocab, max_len):
    ids = {t: i for i, t in enumerate(vocab)}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": ids[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for s in SPECIALS
        ],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": True, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [ids["[CLS]"]], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [ids["[SEP]"]], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/mails.jsonl")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "out"))
    ap.add_argument("--size", type=int, default=12000)
    ap.add_argument("--max-len", type=int, default=256)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    counts = collections.Counter()
    with open(args.data, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["split"] == "train":
                counts.update(basic_tokenize(r["text"]))
    print(f"{len(counts)} word types, {sum(counts.values())} words ({time.time()-t0:.1f}s)")
    vocab = learn(counts, args.size)
    print(f"vocab {len(vocab)} ({time.time()-t0:.1f}s)")
    with open(os.path.join(args.out, "vocab.txt"), "w", encoding="utf-8") as f:
        for t in vocab:
            f.write(t + "\n")
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab, args.max_len), f, ensure_ascii=False, indent=2)


if __name__ == "__main__":
    main()
