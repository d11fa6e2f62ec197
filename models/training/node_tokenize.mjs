// Tokenise every mail of a JSONL file with @huggingface/tokenizers (the gateway's tokenizer) and
// write one JSON array of ids per line, for comparison with the Python tokenizer (check_tokenizer.py).
//   node models/training/node_tokenize.mjs TOKENIZER_JSON IN_JSONL OUT_JSONL
import { readFileSync, writeFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
const [tokPath, inPath, outPath] = process.argv.slice(2);
const tok = new Tokenizer(JSON.parse(readFileSync(tokPath, 'utf8')), {});
const out = [];
const t0 = Date.now();
for (const line of readFileSync(inPath, 'utf8').split('\n')) {
  if (!line) continue;
  const r = JSON.parse(line);
  out.push(JSON.stringify({ id: r.id, ids: tok.encode(r.text).ids }));
}
writeFileSync(outPath, out.join('\n') + '\n');
console.log(`tokenised ${out.length} texts in ${Date.now() - t0} ms`);
