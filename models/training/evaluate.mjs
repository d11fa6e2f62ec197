// Checks and measures the exported spam-bert folder with the gateway's own runtime stack
// (@huggingface/tokenizers + onnxruntime-node), then writes models/spam-bert/model.json.
//
//   node models/training/evaluate.mjs [--data /tmp/mails.jsonl] [--skip-latency]
//
// * tokenizer parity: ids of every held-out text == the Python tokenizer's ids (torch_test_logits.json)
// * logits parity: onnx fp32 vs torch fp32 (every held-out text, batch 1) and vs the fixture
// * padding invariance: logits in padded batches of 32 == batch-1 logits
// * held-out accuracy / precision / recall / confusion matrix for fp32 and int8
// * drift baseline (token lengths before truncation, [UNK] share, label shares, mean confidence)
// * latency: batch 1 (median of 200) and batch 32 per text, on ~60-token texts
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dest = join(root, 'models', 'spam-bert');
const args = process.argv.slice(2);
const dataPath = args.includes('--data') ? args[args.indexOf('--data') + 1] : '/tmp/mails.jsonl';
const skipLatency = args.includes('--skip-latency');

const tokJson = JSON.parse(readFileSync(join(dest, 'tokenizer.json'), 'utf8'));
const tokCfg = JSON.parse(readFileSync(join(dest, 'tokenizer_config.json'), 'utf8'));
const tok = new Tokenizer(tokJson, tokCfg);
const maxTokens = tokCfg.model_max_length;
const SEP = tok.token_to_id('[SEP]');
const UNK = tok.token_to_id('[UNK]');
const LABELS = ['ham', 'spam'];

function encode(text) {
  const full = tok.encode(text).ids;
  const ids = full.length > maxTokens ? [...full.slice(0, maxTokens - 1), SEP] : full;
  return { full, ids };
}

function feeds(batch) {
  const L = Math.max(...batch.map((b) => b.length));
  const n = batch.length;
  const ids = new BigInt64Array(n * L);
  const mask = new BigInt64Array(n * L);
  batch.forEach((seq, r) => seq.forEach((v, c) => { ids[r * L + c] = BigInt(v); mask[r * L + c] = 1n; }));
  return {
    input_ids: new ort.Tensor('int64', ids, [n, L]),
    attention_mask: new ort.Tensor('int64', mask, [n, L]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(n * L), [n, L]),
  };
}

async function run(session, batch) {
  const out = await session.run(feeds(batch));
  const d = out.logits.data;
  return batch.map((_, r) => [d[2 * r], d[2 * r + 1]]);
}

const softmax = ([a, b]) => { const m = Math.max(a, b); const ea = Math.exp(a - m); const eb = Math.exp(b - m); return [ea / (ea + eb), eb / (ea + eb)]; };

function metrics(gold, pred) {
  let tp = 0, tn = 0, fp = 0, fn = 0;
  gold.forEach((g, i) => { const p = pred[i]; if (g && p) tp++; else if (!g && !p) tn++; else if (!g && p) fp++; else fn++; });
  return { accuracy: (tp + tn) / gold.length, precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), confusion: { tn, fp, fn, tp } };
}

const opts = { graphOptimizationLevel: 'all' };
const sessions = {
  fp32: await ort.InferenceSession.create(join(dest, 'onnx', 'model.onnx'), opts),
  int8: await ort.InferenceSession.create(join(dest, 'onnx', 'model_quantized.onnx'), opts),
};

const rows = readFileSync(dataPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.split === 'test');
const torchRef = JSON.parse(readFileSync(join(here, 'out', 'torch_test_logits.json'), 'utf8'));
const torchById = new Map(torchRef.map((r) => [r.id, r]));
const enc = rows.map((r) => encode(r.text));
const gold = rows.map((r) => LABELS.indexOf(r.label));
const report = { maxTokens, texts: rows.length };

// tokenizer parity with Python
report.tokenizerMismatches = rows.filter((r, i) => JSON.stringify(torchById.get(r.id).ids) !== JSON.stringify(enc[i].ids)).length;

// batch-1 logits, both models
const logits = {};
for (const [name, s] of Object.entries(sessions)) {
  logits[name] = [];
  for (const e of enc) logits[name].push((await run(s, [e.ids]))[0]);
}
let torchDiff = 0;
rows.forEach((r, i) => { const t = torchById.get(r.id).logits; torchDiff = Math.max(torchDiff, Math.abs(t[0] - logits.fp32[i][0]), Math.abs(t[1] - logits.fp32[i][1])); });
report.torchVsOnnxFp32MaxAbsDiff = torchDiff;
let int8Diff = 0;
logits.fp32.forEach((l, i) => { int8Diff = Math.max(int8Diff, Math.abs(l[0] - logits.int8[i][0]), Math.abs(l[1] - logits.int8[i][1])); });
report.fp32VsInt8MaxAbsLogitDiff = int8Diff;
const preds = {};
for (const name of Object.keys(sessions)) {
  preds[name] = logits[name].map((l) => (l[1] > l[0] ? 1 : 0));
  report[name] = metrics(gold, preds[name]);
}
report.int8AgreesWithFp32 = preds.fp32.filter((p, i) => p === preds.int8[i]).length / rows.length;

// padding invariance: mixed-length batches of 32 vs batch 1
for (const name of Object.keys(sessions)) {
  const order = enc.map((_, i) => i).sort((a, b) => (a * 7919) % 1257 - (b * 7919) % 1257);
  let diff = 0;
  for (let s = 0; s < order.length; s += 32) {
    const idx = order.slice(s, s + 32);
    const out = await run(sessions[name], idx.map((i) => enc[i].ids));
    idx.forEach((i, k) => { diff = Math.max(diff, Math.abs(out[k][0] - logits[name][i][0]), Math.abs(out[k][1] - logits[name][i][1])); });
  }
  report[`${name}PaddedBatchMaxAbsDiff`] = diff;
}

// the mask must matter: the same padded input with an all-ones mask gives other logits
{
  const seq = enc[0].ids.slice(0, 10);
  const padded = [...seq, ...new Array(6).fill(0)];
  const f = feeds([padded]);
  const masked = { ...f, attention_mask: new ort.Tensor('int64', BigInt64Array.from(padded.map((_, i) => (i < seq.length ? 1n : 0n))), [1, padded.length]) };
  const a = (await sessions.fp32.run(masked)).logits.data;
  const b = (await sessions.fp32.run(f)).logits.data;
  const c = (await run(sessions.fp32, [seq]))[0];
  report.maskCheck = { paddedMaskedVsUnpadded: Math.max(Math.abs(a[0] - c[0]), Math.abs(a[1] - c[1])), paddedUnmaskedVsUnpadded: Math.max(Math.abs(b[0] - c[0]), Math.abs(b[1] - c[1])) };
}

// fixture parity
const fixture = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'spam-bert-parity.json'), 'utf8'));
let fxIds = 0, fxLogit = 0, fxProb = 0;
for (const c of fixture.cases) {
  const e = encode(c.text);
  if (JSON.stringify(e.ids) !== JSON.stringify(c.ids)) fxIds++;
  const l = (await run(sessions.fp32, [e.ids]))[0];
  const p = softmax(l);
  fxLogit = Math.max(fxLogit, Math.abs(l[0] - c.logits[0]), Math.abs(l[1] - c.logits[1]));
  fxProb = Math.max(fxProb, Math.abs(p[0] - c.probs[0]), Math.abs(p[1] - c.probs[1]));
}
report.fixture = { cases: fixture.cases.length, idMismatches: fxIds, maxAbsLogitDiff: fxLogit, maxAbsProbDiff: fxProb };

// drift baseline (fp32)
const edges = [0, 8, 16, 32, 64, 128, 256, 512, 1024];
const counts = new Array(edges.length).fill(0);
let unk = 0, conf = 0, spam = 0;
enc.forEach((e, i) => {
  const n = e.full.length;
  let b = edges.length - 1;
  for (let k = 0; k < edges.length - 1; k++) if (n >= edges[k] && n < edges[k + 1]) { b = k; break; }
  counts[b]++;
  unk += e.full.filter((t) => t === UNK).length / e.full.length;
  const p = softmax(logits.fp32[i]);
  conf += Math.max(...p);
  spam += preds.fp32[i];
});
const r6 = (x) => Math.round(x * 1e6) / 1e6;
const share = counts.map((c) => c / rows.length);
const baseline = {
  source: `spam-assassin held-out split (${rows.length} texts)`,
  tokenLength: { edges, share: share.map(r6) },
  unknownTokenRatio: r6(unk / rows.length),
  labels: { ham: r6(1 - spam / rows.length), spam: r6(spam / rows.length) },
  meanConfidence: r6(conf / rows.length),
};
// make the rounded shares sum to exactly 1
const s = baseline.tokenLength.share.reduce((a, b) => a + b, 0);
const big = baseline.tokenLength.share.indexOf(Math.max(...baseline.tokenLength.share));
baseline.tokenLength.share[big] = r6(baseline.tokenLength.share[big] + 1 - s);
report.baseline = baseline;

// latency
if (!skipLatency) {
  const pick = enc.map((e, i) => i).filter((i) => enc[i].full.length >= 60);
  const texts60 = pick.slice(0, 32).map((i) => [...enc[i].full.slice(0, 59), SEP]);
  const sample = rows[pick[0]].text;
  const median = (a) => { const b = [...a].sort((x, y) => x - y); return b[Math.floor(b.length / 2)]; };
  report.latency = {};
  for (const [name, sess] of Object.entries(sessions)) {
    for (let i = 0; i < 20; i++) await run(sess, [texts60[0]]);
    const t1 = [];
    const tEnd = [];
    for (let i = 0; i < 200; i++) {
      let t = process.hrtime.bigint();
      await run(sess, [texts60[i % 32]]);
      t1.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      const e = encode(sample.slice(0, 400));
      await run(sess, [e.ids.length > 60 ? [...e.ids.slice(0, 59), SEP] : e.ids]);
      tEnd.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    for (let i = 0; i < 3; i++) await run(sess, texts60);
    const tb = [];
    for (let i = 0; i < 30; i++) {
      const t = process.hrtime.bigint();
      await run(sess, texts60);
      tb.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    report.latency[name] = {
      batch1MedianMs: +median(t1).toFixed(3),
      batch1P95Ms: +[...t1].sort((a, b) => a - b)[Math.floor(t1.length * 0.95)].toFixed(3),
      batch1WithTokenizeMedianMs: +median(tEnd).toFixed(3),
      batch32MedianMs: +median(tb).toFixed(3),
      batch32PerTextMs: +(median(tb) / 32).toFixed(3),
      tokens: 60,
    };
  }
}
report.sizes = Object.fromEntries(['model.onnx', 'model_quantized.onnx'].map((f) => [f, statSync(join(dest, 'onnx', f)).size]));

const modelJson = {
  task: 'classification',
  version: '1.0.0',
  labels: LABELS,
  maxTokens,
  default: true,
  fallback: 'spam-linear',
  baseline,
};
writeFileSync(join(dest, 'model.json'), JSON.stringify(modelJson, null, 2) + '\n');
writeFileSync(join(here, 'out', 'onnx_eval.json'), JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify(report, null, 2));
