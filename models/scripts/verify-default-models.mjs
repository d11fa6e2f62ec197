#!/usr/bin/env node
// Checks the two default models the way the gateway uses them: tokenizer.json + tokenizer_config.json
// through @huggingface/tokenizers, onnx/model.onnx through onnxruntime-node, batches padded with [PAD] and
// attention_mask 0, masked mean pooling (embedding) and softmax (classifier) done here.
//
// Run by build-default-models.mjs after writing the models (with the build's own figures to compare
// against), or on its own: `node models/scripts/verify-default-models.mjs`.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_TOKENS = 512;
const PAD_ID = 0;

export const SPAM_EXAMPLE = 'Congratulations! You have WON a FREE prize, click here to claim your cash now!!!';
export const HAM_EXAMPLE =
  'Hi Sarah, could you send me the agenda for tomorrow\'s project meeting? I would also like to go through the code review comments on my patch before we merge it. Thanks, Tom';

/** Mean of the token vectors (rows of a [vocab, dims] table) of `ids`; zeros for no tokens. */
export function meanPool(ids, table, dims) {
  const out = new Float64Array(dims);
  for (const id of ids) for (let c = 0; c < dims; c++) out[c] += table[id * dims + c];
  if (ids.length > 0) for (let c = 0; c < dims; c++) out[c] /= ids.length;
  return out;
}

export function cosine(a, b) {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

function check(condition, message) {
  if (!condition) throw new Error(`verification failed: ${message}`);
}

/** Batch tensors for id lists padded on the right to the longest one. */
function batchFeeds(ort, idLists) {
  const len = Math.max(1, ...idLists.map((ids) => ids.length));
  const ids = new BigInt64Array(idLists.length * len).fill(BigInt(PAD_ID));
  const mask = new BigInt64Array(idLists.length * len);
  idLists.forEach((list, b) => {
    list.forEach((id, t) => {
      ids[b * len + t] = BigInt(id);
      mask[b * len + t] = 1n;
    });
  });
  return {
    len,
    feeds: {
      input_ids: new ort.Tensor('int64', ids, [idLists.length, len]),
      attention_mask: new ort.Tensor('int64', mask, [idLists.length, len]),
    },
  };
}

/** Masked mean pooling of last_hidden_state [batch, len, dims] (what the gateway does). */
function poolBatch(hidden, maskTensor, batch, len, dims) {
  const mask = maskTensor.data;
  const out = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float64Array(dims);
    let n = 0;
    for (let t = 0; t < len; t++) {
      if (mask[b * len + t] === 0n) continue;
      n++;
      for (let c = 0; c < dims; c++) v[c] += hidden[(b * len + t) * dims + c];
    }
    if (n > 0) for (let c = 0; c < dims; c++) v[c] /= n;
    out.push(v);
  }
  return out;
}

function softmax(row) {
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function loadTokenizer(Tokenizer, dir) {
  return new Tokenizer(
    JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
    JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
  );
}

/**
 * @param {{ root: string, log?: (msg: string) => void, expected?: object }} opts
 *   expected (from the build): texts, test (indices), labels, embedIds, spamIds, accuracy, confusion,
 *   testLogits, meanNorm, similarity
 */
export async function verifyModels({ root, log = console.log, expected = null }) {
  const rootRequire = createRequire(join(root, 'package.json'));
  const ort = rootRequire('onnxruntime-node');
  const { Tokenizer } = rootRequire('@huggingface/tokenizers');
  const embedDir = join(root, 'models/glove-embed-100d');
  const spamDir = join(root, 'models/spam-linear');
  const embedTok = loadTokenizer(Tokenizer, embedDir);
  const spamTok = loadTokenizer(Tokenizer, spamDir);
  const encode = (tok, text) => tok.encode(text, { add_special_tokens: true }).ids;
  const report = {};

  // ---- tokenizers -----------------------------------------------------------------------------------
  const hello = embedTok.encode('Hello, WORLD! Café naïve', { add_special_tokens: true });
  check(
    JSON.stringify(hello.tokens) === JSON.stringify(['hello', ',', 'world', '!', 'cafe', 'naive']),
    `unexpected tokens ${JSON.stringify(hello.tokens)}`,
  );
  check(hello.ids.every((id) => id > 1), `unexpected [UNK] in ${JSON.stringify(hello.ids)}`);
  check(encode(embedTok, 'qwertyzzx')[0] === 1, 'an unknown word must map to [UNK] = 1');
  log(`  tokenizer: "Hello, WORLD! Café naïve" -> ${JSON.stringify(hello.tokens)} ids ${JSON.stringify(hello.ids)}`);
  if (expected) {
    let mismatches = 0;
    expected.texts.forEach((text, i) => {
      const a = encode(embedTok, text);
      const b = encode(spamTok, text);
      if (a.length !== expected.embedIds[i].length || a.some((id, k) => id !== expected.embedIds[i][k])) mismatches++;
      if (b.length !== expected.spamIds[i].length || b.some((id, k) => id !== expected.spamIds[i][k])) mismatches++;
    });
    check(mismatches === 0, `${mismatches} tokenizations differ from the build's`);
    log(`  tokenizer.json ids equal the build's ids for all ${expected.texts.length} mails (both models)`);
  }

  // ---- embedding ------------------------------------------------------------------------------------
  const embed = await ort.InferenceSession.create(join(embedDir, 'onnx/model.onnx'));
  check(
    JSON.stringify(embed.inputNames) === '["input_ids","attention_mask"]' && JSON.stringify(embed.outputNames) === '["last_hidden_state"]',
    `embedding io names ${embed.inputNames} -> ${embed.outputNames}`,
  );
  const embedTexts = async (texts) => {
    const lists = texts.map((t) => encode(embedTok, t).slice(0, MAX_TOKENS));
    const { len, feeds } = batchFeeds(ort, lists);
    const out = (await embed.run(feeds)).last_hidden_state;
    check(out.type === 'float32' && out.dims.join() === `${texts.length},${len},100`, `last_hidden_state dims ${out.dims}`);
    return { pooled: poolBatch(out.data, feeds.attention_mask, texts.length, len, 100), out, len, lists };
  };
  const cat = 'The cat sat on the mat.';
  const kitten = 'A kitten was sitting on the rug.';
  const stocks = 'Stock markets fell sharply after the interest rate decision.';
  const pair = await embedTexts([cat, stocks]); // different lengths, padded to the same length
  const alone = await embedTexts([cat]);
  check(pair.lists[0].length < pair.len, 'the batch should pad the shorter text');
  const padRow = pair.out.data.subarray((0 * pair.len + pair.len - 1) * 100, (0 * pair.len + pair.len) * 100);
  check(padRow.every((x) => x === 0), 'padded positions must be zero');
  const padDiff = Math.max(...pair.pooled[0].map((x, c) => Math.abs(x - alone.pooled[0][c])));
  check(padDiff === 0, `padding changed the pooled embedding by ${padDiff}`);
  const kit = await embedTexts([kitten]);
  const simSimilar = cosine(alone.pooled[0], kit.pooled[0]);
  const simUnrelated = cosine(alone.pooled[0], pair.pooled[1]);
  check(simSimilar > simUnrelated, `similarity: cat/kitten ${simSimilar} <= cat/stocks ${simUnrelated}`);
  report.similarity = { simSimilar, simUnrelated };
  log(`  embedding: batch of 2 padded to ${pair.len} tokens, padding-invariant pooled vector (max diff ${padDiff}); cos(cat, kitten) ${simSimilar.toFixed(4)} > cos(cat, stocks) ${simUnrelated.toFixed(4)}`);
  if (expected) {
    for (const r of expected.similarity) {
      const { pooled } = await embedTexts([r.anchor, r.similar, r.unrelated]);
      const s1 = cosine(pooled[0], pooled[1]);
      const s2 = cosine(pooled[0], pooled[2]);
      check(Math.abs(s1 - r.simSimilar) < 1e-5 && Math.abs(s2 - r.simUnrelated) < 1e-5, `similarity of "${r.anchor}" differs: ${s1}/${s2} vs ${r.simSimilar}/${r.simUnrelated}`);
    }
    let normSum = 0;
    for (let k = 0; k < expected.test.length; k += 32) {
      const texts = expected.test.slice(k, k + 32).map((i) => expected.texts[i]);
      const { pooled } = await embedTexts(texts);
      for (const v of pooled) normSum += Math.sqrt(v.reduce((a, x) => a + x * x, 0));
    }
    const meanNorm = normSum / expected.test.length;
    check(Math.abs(meanNorm - expected.meanNorm) < 1e-5, `meanNorm through ONNX ${meanNorm} vs ${expected.meanNorm}`);
    log(`  embedding: the card's similarity figures and meanNorm (${meanNorm.toFixed(6)} over ${expected.test.length} held-out mails) reproduce through ONNX`);
  }

  // ---- classifier -----------------------------------------------------------------------------------
  const spam = await ort.InferenceSession.create(join(spamDir, 'onnx/model.onnx'));
  check(
    JSON.stringify(spam.inputNames) === '["input_ids","attention_mask"]' && JSON.stringify(spam.outputNames) === '["logits"]',
    `classifier io names ${spam.inputNames} -> ${spam.outputNames}`,
  );
  const classifyIds = async (lists) => {
    const { feeds } = batchFeeds(ort, lists);
    const out = (await spam.run(feeds)).logits;
    check(out.type === 'float32' && out.dims.join() === `${lists.length},2`, `logits dims ${out.dims}`);
    return lists.map((_, b) => [out.data[2 * b], out.data[2 * b + 1]]);
  };
  const spamIds = encode(spamTok, SPAM_EXAMPLE);
  const hamIds = encode(spamTok, HAM_EXAMPLE);
  const [spamLogits, hamLogits] = await classifyIds([spamIds, hamIds]);
  const [spamAlone] = await classifyIds([spamIds]);
  // In a batch with a text three times as long, the spam text gets twice its length of [PAD]/mask 0.
  const [, viaBatch] = await classifyIds([[...spamIds, ...spamIds, ...spamIds], spamIds]);
  const maxPadDiff = Math.max(...[0, 1].map((c) => Math.abs(viaBatch[c] - spamAlone[c])), ...[0, 1].map((c) => Math.abs(spamLogits[c] - spamAlone[c])));
  const pSpam = softmax(spamLogits);
  const pHam = softmax(hamLogits);
  check(pSpam[1] > 0.5, `obvious spam scored p(spam) = ${pSpam[1]}`);
  check(pHam[0] > 0.5, `obvious ham scored p(ham) = ${pHam[0]}`);
  check(maxPadDiff === 0, `padding changed the logits by ${maxPadDiff}`);
  report.examples = { spam: pSpam, ham: pHam, maxPadDiff };
  log(`  classifier: "${SPAM_EXAMPLE}" -> p(spam) ${pSpam[1].toFixed(4)}; "${HAM_EXAMPLE.slice(0, 50)}..." -> p(ham) ${pHam[0].toFixed(4)}`);
  log(`  classifier: logits identical with and without [PAD]/mask-0 padding (max diff ${maxPadDiff})`);
  if (expected) {
    const confusion = [
      [0, 0],
      [0, 0],
    ];
    let maxLogitDiff = 0;
    for (let k = 0; k < expected.test.length; k += 32) {
      const idx = expected.test.slice(k, k + 32);
      const logits = await classifyIds(idx.map((i) => encode(spamTok, expected.texts[i]).slice(0, MAX_TOKENS)));
      if (k === 0) {
        // Each text of this padded batch of 32, run on its own (no padding), gives the same bits.
        for (let b = 0; b < idx.length; b++) {
          const [single] = await classifyIds([encode(spamTok, expected.texts[idx[b]]).slice(0, MAX_TOKENS)]);
          check(single[0] === logits[b][0] && single[1] === logits[b][1], `batched vs single logits differ for held-out text ${b}`);
        }
      }
      logits.forEach((l, b) => {
        const ref = expected.testLogits[k + b];
        maxLogitDiff = Math.max(maxLogitDiff, Math.abs(l[0] - ref[0]), Math.abs(l[1] - ref[1]));
        const predicted = l[1] > l[0] ? 1 : 0;
        confusion[expected.labels[idx[b]] === 'spam' ? 1 : 0][predicted]++;
      });
    }
    const accuracy = (confusion[0][0] + confusion[1][1]) / expected.test.length;
    check(JSON.stringify(confusion) === JSON.stringify(expected.confusion), `confusion through ONNX ${JSON.stringify(confusion)} vs ${JSON.stringify(expected.confusion)}`);
    check(accuracy === expected.accuracy, `accuracy through ONNX ${accuracy} vs ${expected.accuracy}`);
    report.heldOut = { accuracy, confusion, maxLogitDiff };
    log(`  classifier: first 32 held-out mails give bit-identical logits alone and in a padded batch`);
    log(`  classifier: held-out accuracy through ONNX ${(100 * accuracy).toFixed(2)}% = trainer's; confusion ${JSON.stringify(confusion)}; max |logit - trainer logit| ${maxLogitDiff.toExponential(2)}`);
  }
  return report;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  verifyModels({ root }).then(
    () => console.log('ok'),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
