"""Train the compact BERT spam classifier on the fixed training split; evaluate on the held-out
split after every epoch and keep the best checkpoint (out/best.pt).

  LD_LIBRARY_PATH=<openblas dir> nice -n 15 /usr/bin/python3 models/training/train.py --out models/training/out
"""
import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_tokenizer import WordPieceTokenizer  # noqa: E402
from model import BertForSequenceClassification, Config  # noqa: E402

LABELS = ["ham", "spam"]


def load_split(path, tok, max_len):
    data = {"train": [], "test": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            data[r["split"]].append((tok.encode_prefix(r["text"], max_len), LABELS.index(r["label"])))
    return data


def batches(items, batch_size, rng=None, chunk=50):
    """Length-bucketed batches: shuffle, sort by length inside chunks of `chunk` batches, pad to
    the longest sequence of each batch, shuffle the batch order."""
    idx = list(range(len(items)))
    if rng is not None:
        rng.shuffle(idx)
    span = batch_size * chunk
    out = []
    for s in range(0, len(idx), span):
        part = sorted(idx[s:s + span], key=lambda i: len(items[i][0]))
        out += [part[k:k + batch_size] for k in range(0, len(part), batch_size)]
    if rng is not None:
        rng.shuffle(out)
    for b in out:
        L = max(len(items[i][0]) for i in b)
        ids = torch.zeros((len(b), L), dtype=torch.long)
        mask = torch.zeros((len(b), L), dtype=torch.long)
        for r, i in enumerate(b):
            seq = items[i][0]
            ids[r, :len(seq)] = torch.tensor(seq)
            mask[r, :len(seq)] = 1
        yield ids, mask, torch.tensor([items[i][1] for i in b])


@torch.no_grad()
def evaluate(model, items, batch_size=64):
    model.eval()
    preds, gold = [], []
    for ids, mask, y in batches(items, batch_size):
        logits = model(ids, mask, torch.zeros_like(ids))
        preds += logits.argmax(-1).tolist()
        gold += y.tolist()
    model.train()
    return metrics(gold, preds)


def metrics(gold, preds):
    tp = sum(1 for g, p in zip(gold, preds) if g == 1 and p == 1)
    tn = sum(1 for g, p in zip(gold, preds) if g == 0 and p == 0)
    fp = sum(1 for g, p in zip(gold, preds) if g == 0 and p == 1)
    fn = sum(1 for g, p in zip(gold, preds) if g == 1 and p == 0)
    return {"accuracy": (tp + tn) / len(gold), "precision": tp / max(tp + fp, 1),
            "recall": tp / max(tp + fn, 1), "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp}}


def glove_init(model, out_dir, std, seed):
    path = os.path.join(out_dir, "glove_init.npy")
    if not os.path.exists(path):
        return 0
    g = np.load(path)
    m = np.load(os.path.join(out_dir, "glove_mask.npy"))
    h = model.config.hidden_size
    gen = torch.Generator().manual_seed(seed)
    # fixed random orthonormal projection 100 -> hidden keeps the GloVe geometry
    q, _ = torch.linalg.qr(torch.randn(h, g.shape[1], generator=gen))
    vec = torch.from_numpy(g[m]) @ q.T
    vec = vec / vec.std() * std
    w = model.bert.embeddings.word_embeddings.weight
    with torch.no_grad():
        w.normal_(0, std, generator=gen)
        w[torch.from_numpy(m)] = vec
        w[0].zero_()
    return int(m.sum())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/mails.jsonl")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--emb-std", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget-min", type=float, default=50.0, help="stop after this many minutes")
    args = ap.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    tok = WordPieceTokenizer.from_vocab_file(os.path.join(args.out, "vocab.txt"))
    data = load_split(args.data, tok, args.max_len)
    print(f"tokenised train {len(data['train'])} / test {len(data['test'])} in {time.time()-t0:.1f}s",
          flush=True)

    cfg = Config(len(tok.vocab), hidden_size=args.hidden, num_hidden_layers=args.layers,
                 num_attention_heads=args.heads, intermediate_size=4 * args.hidden,
                 max_position_embeddings=args.max_len, attention_probs_dropout_prob=0.0)
    model = BertForSequenceClassification(cfg)
    n_glove = glove_init(model, args.out, args.emb_std, args.seed)
    print(f"params {sum(p.numel() for p in model.parameters())}, GloVe-initialised rows {n_glove}",
          flush=True)

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
         "weight_decay": args.weight_decay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    steps_per_epoch = math.ceil(len(data["train"]) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warm = max(1, int(total * args.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    rng = random.Random(args.seed)
    best = None
    history = []
    step = 0
    t_train = time.time()
    model.train()
    for epoch in range(1, args.epochs + 1):
        te = time.time()
        run_loss, n = 0.0, 0
        for ids, mask, y in batches(data["train"], args.batch_size, rng):
            loss = F.cross_entropy(model(ids, mask, torch.zeros_like(ids)), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            run_loss += loss.item()
            n += 1
            if step % 20 == 0:
                print(f"epoch {epoch} step {step}/{total} loss {run_loss/n:.4f} "
                      f"lr {sched.get_last_lr()[0]:.2e} {time.time()-te:.0f}s", flush=True)
        m = evaluate(model, data["test"])
        m.update(epoch=epoch, train_loss=run_loss / max(n, 1), epoch_s=round(time.time() - te, 1))
        history.append(m)
        print("EVAL " + json.dumps(m), flush=True)
        if best is None or m["accuracy"] > best["accuracy"]:
            best = m
            torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict(), "metrics": m,
                        "args": vars(args)}, os.path.join(args.out, "best.pt"))
        if (time.time() - t_train) / 60 > args.budget_min:
            print("time budget reached, stopping", flush=True)
            break
    train_min = (time.time() - t_train) / 60
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump({"args": vars(args), "history": history, "best": best,
                   "train_minutes": round(train_min, 1), "threads": args.threads}, f, indent=1)
    print(f"done in {train_min:.1f} min; best {json.dumps(best)}", flush=True)


if __name__ == "__main__":
    main()
