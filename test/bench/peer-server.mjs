// The PEER: what a Node user would write without the gateway. A plain http.createServer around one
// @huggingface/transformers pipeline (text-classification, or feature-extraction for embedding
// models), one pipeline call per request, no batching, local files only.
//
//   node test/bench/peer-server.mjs --model FOLDER [--port 0]
// Routes: POST /classify {"text"} -> [{label, score}], POST /embed {"text"} -> {dimensions, values},
// GET /health -> {"status":"OK","inflight":N}. Prints one JSON line {"port":N} once the pipeline has answered.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const folder = path.resolve(opt('model'));
const spec = JSON.parse(readFileSync(path.join(folder, 'model.json'), 'utf8'));

const { env, pipeline } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(folder);
env.useBrowserCache = false;
env.useFSCache = false;

const task = spec.task === 'classification' ? 'text-classification' : 'feature-extraction';
const pipe = await pipeline(task, path.basename(folder), { dtype: 'fp32', device: 'cpu' });
// Same truncation as the gateway: at most maxTokens tokens, special tokens included.
// (transformers.js reads model_max_length from tokenizer_config.json; the gateway reads model.json.)
if (pipe.tokenizer.model_max_length !== spec.maxTokens) {
  if (pipe.tokenizer._tokenizerConfig) pipe.tokenizer._tokenizerConfig.model_max_length = spec.maxTokens;
  if (pipe.tokenizer.model_max_length !== spec.maxTokens) throw new Error(`cannot set the tokenizer's max length to ${spec.maxTokens}`);
}

const run =
  task === 'text-classification'
    ? async (text) => pipe(text)
    : async (text) => {
        const t = await pipe(text, { pooling: spec.pooling === 'cls' ? 'cls' : 'mean', normalize: true });
        return { dimensions: t.dims.at(-1), values: Array.from(t.data) };
      };
await run('warm up the pipeline once');

let inflight = 0;
const route = task === 'text-classification' ? '/classify' : '/embed';
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"status":"OK","inflight":${inflight}}`);
    return;
  }
  if (req.method !== 'POST' || req.url !== route) {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    inflight++;
    try {
      const { text } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (typeof text !== 'string' || text.trim() === '') throw new Error('text must be a non-empty string');
      const body = JSON.stringify(await run(text));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    } catch (e) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String(e?.message ?? e) }));
    } finally {
      inflight--;
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(opt('port', 0)), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port, task, file: 'onnx/model.onnx' })}\n`);
});
for (const s of ['SIGTERM', 'SIGINT']) process.once(s, () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 2000).unref());
