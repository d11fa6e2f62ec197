// Loads models/spam-bert unchanged with @huggingface/transformers (fp32 and q8) and classifies a few texts.
//   node models/training/check_transformers.mjs
import { env, pipeline } from '@huggingface/transformers';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
env.allowRemoteModels = false;
env.localModelPath = join(dirname(fileURLToPath(import.meta.url)), '..') + '/';
const texts = ['win a free prize now', 'Hi Tom, are we still on for lunch tomorrow?'];
for (const dtype of ['fp32', 'q8']) {
  const p = await pipeline('text-classification', 'spam-bert', { dtype });
  console.log(dtype, JSON.stringify(await p('win a free prize now')), JSON.stringify(await p(texts, { top_k: 2 })));
  const long = 'free money '.repeat(400);
  console.log(dtype, 'long text', JSON.stringify(await p(long)));
}
