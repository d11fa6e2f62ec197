// The LIMIT: what onnxruntime-node itself does with the model on this machine, with nothing around
// it. Texts are tokenized beforehand (@huggingface/tokenizers, the model's tokenizer.json, the same
// maxTokens truncation as the gateway: special tokens kept at both ends), then each text is run alone
// at its exact length (batch 1, no padding) through one session with default options, one after
// another. Throughput = texts / seconds spent in session.run; latency = per-text session.run times.
//
// The model call's own CPU is measured apart: the same texts, one at a time, on a session with one
// thread and no spinning (how the gateway's workers run a small model), CPU time of the process per
// text: what one text costs the machine at the least, whoever runs it.
//
//   node test/bench/limit.mjs --model FOLDER [--traffic mail|generated|short] [--seconds 5] [--part 0] [--seed bench]
// prints one JSON line.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMonitor } from './procs.mjs';
import { loadCorpus, TextStream, WINDOWS } from './traffic.mjs';

const require = createRequire(import.meta.url);

/** Encoder with the gateway's truncation rule, for one model folder. */
export async function loadEncoder(folder) {
  const { Tokenizer } = await import('@huggingface/tokenizers');
  const read = (f) => JSON.parse(readFileSync(path.join(folder, f), 'utf8'));
  const spec = read('model.json');
  const tokenizer = new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
  const probe = tokenizer.encode('probe', { add_special_tokens: false }).ids;
  const full = tokenizer.encode('probe', { add_special_tokens: true }).ids;
  let at = -1;
  for (let i = 0; i + probe.length <= full.length && at < 0; i++) if (probe.every((id, j) => full[i + j] === id)) at = i;
  if (at < 0) throw new Error('cannot find the text tokens in the post-processed probe');
  const prefix = full.slice(0, at);
  const suffix = full.slice(at + probe.length);
  const room = spec.maxTokens - prefix.length - suffix.length;
  return {
    spec,
    encode(text) {
      const content = tokenizer.encode(text, { add_special_tokens: false }).ids;
      return [...prefix, ...content.slice(0, room), ...suffix];
    },
  };
}

export function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export async function measureLimit({ folder, traffic, seconds = 5, part = 0, seed = 'bench', maxTexts = 20000, warmup = 10 }) {
  const ort = require('onnxruntime-node');
  const { docs, source } = await loadCorpus(traffic);
  const stream = new TextStream(docs, seed, part, WINDOWS[source]);
  const encoder = await loadEncoder(folder);
  const session = await ort.InferenceSession.create(path.join(folder, 'onnx/model.onnx'));
  const output = session.outputNames.includes('logits')
    ? 'logits'
    : (['last_hidden_state', 'token_embeddings', 'sentence_embedding', 'pooler_output', 'embeddings'].find((n) => session.outputNames.includes(n)) ?? session.outputNames[0]);

  // Tokenize everything up front: the limit times the model only.
  const t0 = performance.now();
  const encoded = [];
  const tokenizeMs = [];
  // Enough texts for `seconds` at the speed of a first probe, within maxTexts.
  const probeIds = encoder.encode(stream.next());
  const feedsOf = (ids) => {
    const dims = [1, ids.length];
    const all = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), dims),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), dims),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(ids.length), dims),
    };
    return Object.fromEntries(session.inputNames.map((n) => [n, all[n]]));
  };
  for (let i = 0; i < warmup; i++) await session.run(feedsOf(probeIds), [output]);
  let probeMs = performance.now();
  for (let i = 0; i < 5; i++) await session.run(feedsOf(probeIds), [output]);
  probeMs = (performance.now() - probeMs) / 5;
  const wanted = Math.min(maxTexts, Math.max(50, Math.ceil((seconds * 1000) / Math.max(probeMs, 0.01))));
  for (let i = 0; i < wanted; i++) {
    const text = stream.next();
    const t = performance.now();
    encoded.push(encoder.encode(text));
    tokenizeMs.push(performance.now() - t);
  }
  const tokenizeSeconds = (performance.now() - t0) / 1000;

  const feeds = encoded.map(feedsOf);
  const latencies = new Float64Array(feeds.length);
  const mon = cpuMonitor({ server: [process.pid] });
  const started = performance.now();
  for (let i = 0; i < feeds.length; i++) {
    const t = performance.now();
    await session.run(feeds[i], [output]);
    latencies[i] = performance.now() - t;
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = mon.stop();
  await session.release();

  // The model call's own CPU: one thread, no spinning, the same texts (up to ~`seconds` of them).
  const lean = await ort.InferenceSession.create(path.join(folder, 'onnx/model.onnx'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const leanFeeds = feeds.slice(0, Math.max(50, Math.min(feeds.length, Math.ceil((seconds * 1000) / Math.max(probeMs * 2, 0.01)))));
  for (let i = 0; i < Math.min(warmup, leanFeeds.length); i++) await lean.run(leanFeeds[i], [output]);
  const cpu0 = process.cpuUsage();
  for (const f of leanFeeds) await lean.run(f, [output]);
  const used = process.cpuUsage(cpu0);
  await lean.release();
  const modelCpuMsPerText = (used.user + used.system) / 1000 / leanFeeds.length;

  const sorted = Float64Array.from(latencies).sort();
  const lengths = encoded.map((e) => e.length).sort((a, b) => a - b);
  const tok = Float64Array.from(tokenizeMs).sort();
  return {
    texts: feeds.length,
    seconds: elapsed,
    rps: feeds.length / elapsed,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    mean: (elapsed * 1000) / feeds.length,
    tokens: { p10: percentile(lengths, 0.1), p50: percentile(lengths, 0.5), p90: percentile(lengths, 0.9), mean: lengths.reduce((a, b) => a + b, 0) / lengths.length, max: lengths[lengths.length - 1] },
    cpu,
    modelCpuMsPerText,
    traffic: source,
    tokenizeMsP50: percentile(tok, 0.5),
    tokenizeSeconds,
    output,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  const result = await measureLimit({
    folder: path.resolve(opt('model')),
    traffic: opt('traffic', undefined),
    seconds: Number(opt('seconds', 5)),
    part: Number(opt('part', 0)),
    seed: opt('seed', 'bench'),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
