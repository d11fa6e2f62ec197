"""Compare the Python tokenizer with @huggingface/tokenizers on every mail (both splits).

  node models/training/node_tokenize.mjs models/training/out/tokenizer.json /tmp/mails.jsonl /tmp/node_ids.jsonl
  /usr/bin/python3 models/training/check_tokenizer.py --data /tmp/mails.jsonl --node /tmp/node_ids.jsonl
Also checks that the prefix-only fast path (encode_prefix) equals full tokenisation + truncation.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_tokenizer import WordPieceTokenizer  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--data", default="/tmp/mails.jsonl")
ap.add_argument("--node", default="/tmp/node_ids.jsonl")
ap.add_argument("--vocab", default=os.path.join(os.path.dirname(__file__), "out", "vocab.txt"))
ap.add_argument("--max-len", type=int, default=256)
args = ap.parse_args()
tok = WordPieceTokenizer.from_vocab_file(args.vocab)
rows = [json.loads(l) for l in open(args.data, encoding="utf-8")]
node = {}
for l in open(args.node, encoding="utf-8"):
    r = json.loads(l)
    node[r["id"]] = r["ids"]
bad = 0
tokens = 0
prefix_bad = 0
for r in rows:
    ids, _ = tok.encode(r["text"])
    tokens += len(ids)
    if ids != node[r["id"]]:
        bad += 1
        if bad <= 5:
            n = node[r["id"]]
            i = next((k for k in range(min(len(ids), len(n))) if ids[k] != n[k]), min(len(ids), len(n)))
            print("MISMATCH", r["id"], len(ids), len(n), "at", i, ids[i - 3:i + 5], n[i - 3:i + 5])
    want = ids if len(ids) <= args.max_len else ids[: args.max_len - 1] + [ids[-1]]
    if tok.encode_prefix(r["text"], args.max_len) != want:
        prefix_bad += 1
print(f"{len(rows)} texts, {tokens} tokens: {bad} mismatches vs @huggingface/tokenizers; "
      f"{prefix_bad} prefix fast-path mismatches")
sys.exit(1 if bad or prefix_bad else 0)
