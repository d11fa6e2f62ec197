"""Export the best checkpoint to the Optimum-style folder models/spam-bert/ and write the parity
fixture test/fixtures/spam-bert-parity.json.

  /usr/bin/python3 models/training/export.py
writes onnx/model.onnx (fp32, opset 17), onnx/model_quantized.onnx (int8 dynamic), config.json,
tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt, and
out/torch_test_logits.json (torch fp32 logits of the held-out split, for the Node checks).
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bert_tokenizer import SPECIALS, WordPieceTokenizer  # noqa: E402
from model import BertForSequenceClassification, Config  # noqa: E402
from quantize import quantize  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

FIXTURE_TEXTS = [
    "win a free prize now",
    "Hi Tom, are we still on for lunch tomorrow? Let me know. Cheers, Anna",
    "URGENT!!! Your account has been selected to receive $1,000,000 CASH. Click here to claim your "
    "reward before it expires. No purchase necessary. Act now!",
    "Re: [ILUG] kernel panic after upgrading to 2.4.19\n\nDid you rebuild the initrd? I had the same "
    "problem on my laptop until I ran mkinitrd again and updated lilo.conf.",
    "Subject: Lowest mortgage rates in 10 years\n\nRefinance today and save thousands. Our licensed "
    "brokers compete for YOUR business. Fill out the short form at http://www.example.com/rates "
    "and get a free, no-obligation quote within minutes. To be removed from our list reply with "
    "REMOVE in the subject line.",
    "Café crème à l'hôtel Zürich 😀🚀 — 東京で会いましょう！ naïve résumé ÅNGSTRÖM ΣΊΣΥΦΟΣ",
    "?!... --- ***",
    "   ",
    "Meeting notes: the build server moves to the new rack on Friday; please commit your changes "
    "before 5pm.",
    "Make money fast working from home!!! Earn $5000 per week guaranteed. Visit our website, "
    "unsubscribe anytime.",
    "[CLS] literal special tokens [SEP] inside text [UNK] and a verylongwordthatgoesonandonandon"
    "andonandonandonandonandonandonandonandonandonandonandonandonandonandonandonandonandonandonandonx",
]


def long_text():
    para = ("Dear friend, I am writing to inform you of a confidential business proposal regarding "
            "the transfer of funds from an overseas account. We need your assistance urgently and "
            "you will receive thirty percent of the total sum. Please reply with your bank details. ")
    return "Business proposal\n\n" + para * 12


def build_model(ckpt):
    c = Config(**ckpt["config"])
    m = BertForSequenceClassification(c)
    m.load_state_dict(ckpt["state_dict"])
    m.eval()
    return m, c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--data", default="/tmp/mails.jsonl")
    ap.add_argument("--dest", default=os.path.join(ROOT, "models", "spam-bert"))
    ap.add_argument("--fixture", default=os.path.join(ROOT, "test", "fixtures", "spam-bert-parity.json"))
    args = ap.parse_args()
    torch.manual_seed(0)
    ckpt = torch.load(os.path.join(args.out, "best.pt"))
    model, cfg = build_model(ckpt)
    max_len = cfg.max_position_embeddings
    tok = WordPieceTokenizer.from_vocab_file(os.path.join(args.out, "vocab.txt"))
    os.makedirs(os.path.join(args.dest, "onnx"), exist_ok=True)

    # ---- ONNX fp32
    ids = torch.tensor([tok.encode("export sample text", max_len)[0]])
    dummy = (ids, torch.ones_like(ids), torch.zeros_like(ids))
    fp32 = os.path.join(args.dest, "onnx", "model.onnx")
    torch.onnx.export(
        model, dummy, fp32, opset_version=17, do_constant_folding=True,
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                      "attention_mask": {0: "batch_size", 1: "sequence_length"},
                      "token_type_ids": {0: "batch_size", 1: "sequence_length"},
                      "logits": {0: "batch_size"}})
    m = onnx.load(fp32)
    onnx.checker.check_model(m)
    qm, stats = quantize(m)
    onnx.save(qm, os.path.join(args.dest, "onnx", "model_quantized.onnx"))
    print("quantized:", stats)

    # ---- tokenizer / config files
    shutil.copy(os.path.join(args.out, "tokenizer.json"), os.path.join(args.dest, "tokenizer.json"))
    shutil.copy(os.path.join(args.out, "vocab.txt"), os.path.join(args.dest, "vocab.txt"))
    config = {
        "_name_or_path": "spam-bert",
        "architectures": ["BertForSequenceClassification"],
        "model_type": "bert",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.hidden_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "intermediate_size": cfg.intermediate_size,
        "hidden_act": "gelu",
        "hidden_dropout_prob": cfg.hidden_dropout_prob,
        "attention_probs_dropout_prob": cfg.attention_probs_dropout_prob,
        "max_position_embeddings": cfg.max_position_embeddings,
        "type_vocab_size": cfg.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": cfg.layer_norm_eps,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "problem_type": "single_label_classification",
        "id2label": {"0": "ham", "1": "spam"},
        "label2id": {"ham": 0, "spam": 1},
        "torch_dtype": "float32",
    }
    json.dump(config, open(os.path.join(args.dest, "config.json"), "w"), indent=2)
    special = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
               "mask_token": "[MASK]"}
    json.dump(special, open(os.path.join(args.dest, "special_tokens_map.json"), "w"), indent=2)
    tcfg = {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": True,
        "strip_accents": None,
        "tokenize_chinese_chars": True,
        "do_basic_tokenize": True,
        "never_split": None,
        "model_max_length": max_len,
        "clean_up_tokenization_spaces": True,
        "padding_side": "right",
        "truncation_side": "right",
        "model_input_names": ["input_ids", "token_type_ids", "attention_mask"],
        "added_tokens_decoder": {str(i): {"content": s, "lstrip": False, "normalized": False,
                                          "rstrip": False, "single_word": False, "special": True}
                                 for i, s in enumerate(SPECIALS)},
        **special,
    }
    json.dump(tcfg, open(os.path.join(args.dest, "tokenizer_config.json"), "w"), indent=2)

    # ---- parity fixture
    cases = []
    texts = FIXTURE_TEXTS[:6] + [long_text()] + FIXTURE_TEXTS[6:]
    with torch.no_grad():
        for t in texts:
            ids, full = tok.encode(t, max_len)
            x = torch.tensor([ids])
            logits = model(x, torch.ones_like(x), torch.zeros_like(x))[0]
            probs = torch.softmax(logits, -1)
            cases.append({"text": t, "ids": ids, "truncated": full > max_len,
                          "logits": [float(v) for v in logits], "probs": [float(v) for v in probs]})
    os.makedirs(os.path.dirname(args.fixture), exist_ok=True)
    json.dump({"model": "spam-bert", "maxTokens": max_len, "cases": cases},
              open(args.fixture, "w"), ensure_ascii=False, indent=1)
    print("fixture cases:", len(cases), "truncated:", sum(c["truncated"] for c in cases))

    # ---- torch logits of the held-out split (batch 1, no padding) for the Node parity check
    rows = [json.loads(l) for l in open(args.data, encoding="utf-8")]
    out = []
    with torch.no_grad():
        for r in rows:
            if r["split"] != "test":
                continue
            ids = tok.encode_prefix(r["text"], max_len)
            x = torch.tensor([ids])
            out.append({"id": r["id"], "ids": ids,
                        "logits": [float(v) for v in model(x, torch.ones_like(x), torch.zeros_like(x))[0]]})
    json.dump(out, open(os.path.join(args.out, "torch_test_logits.json"), "w"))
    print("torch test logits:", len(out))
    for f in ("model.onnx", "model_quantized.onnx"):
        print(f, os.path.getsize(os.path.join(args.dest, "onnx", f)))


if __name__ == "__main__":
    main()
