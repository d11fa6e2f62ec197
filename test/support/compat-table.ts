// The compatibility table of docs/models.md, derived from the export fixtures as the gateway reads
// them: a test checks that the document shows exactly this.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readModelFolder } from '../../src/inference/model-folder/read-model-folder.js';
import { loadFolder } from '../../src/inference/model-loader.js';
import { LocalRunner } from '../../src/inference/onnx/local-runner.js';
import { EXPORTS, FIXTURES, type ExportFixture } from './exports.js';
import { SETTINGS as settings } from './runners.js';

const LAYOUT: Record<string, string> = {
  bert: 'Optimum',
  distilbert: 'transformers.js',
  roberta: 'Optimum',
  'xlm-roberta': 'transformers.js',
  mpnet: 'sentence-transformers (ONNX backend)',
  'st-cls': 'sentence-transformers (ONNX backend)',
  'st-dense': 'Optimum `--library sentence_transformers`',
};

async function row(f: ExportFixture): Promise<string> {
  const dir = path.join(EXPORTS, f.name);
  const config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
  const tok = JSON.parse(await readFile(path.join(dir, 'tokenizer.json'), 'utf8'));
  let inputs: readonly string[] = [];
  // What was read from which file: complete once the folder is loaded (the graph's output included).
  const read = await readModelFolder(dir, 'fp32');
  const { readFrom } = read;
  const model = await loadFolder(read, {
    variant: 'fp32',
    openRunner: async (request) => {
      const b = await LocalRunner.open(request.file, settings, () => undefined);
      inputs = b.inputNames;
      return b;
    },
    log: () => undefined,
  });
  await model.close();
  const normalizer =
    tok.normalizer?.type === 'Sequence'
      ? tok.normalizer.normalizers.map((n: { type: string }) => n.type).join('+')
      : tok.normalizer?.type === 'BertNormalizer'
        ? `BertNormalizer, ${tok.normalizer.lowercase ? 'uncased' : 'cased'}`
        : (tok.normalizer?.type ?? 'none');
  const tokenizer = `${tok.model.type} (${tok.pre_tokenizer.type}; ${normalizer})`;
  const task =
    model.spec.task === 'classification'
      ? `classification, ${model.spec.labels.length} labels`
      : `embedding, ${model.spec.dimensions} dims, ${model.spec.pooling === 'none' ? 'pooled in graph' : `${model.spec.pooling} pooling`}${model.spec.normalize ? ', normalised' : ''}`;
  const files = `\`${f.subfolder ? `${f.subfolder}/` : ''}${f.fp32}.onnx\`, \`${f.subfolder ? `${f.subfolder}/` : ''}${f.int8}.onnx\``;
  return `| \`${f.name}\` | ${config.architectures.join(', ')} (\`${config.model_type}\`) | ${tokenizer} | ${LAYOUT[f.name]}: ${files} | ${inputs.join(', ')} | \`${readFrom.output!.value}\` | ${task} | ${readFrom.task!.from} |`;
}

export async function compatibilityTable(): Promise<string> {
  const header = [
    '| fixture | architecture (config.json) | tokenizer.json (model; pre-tokenizer; normalizer) | layout: fp32, int8 | graph inputs | output read | served as | task read from |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const rows: string[] = [];
  for (const f of FIXTURES) rows.push(await row(f));
  return [...header, ...rows].join('\n');
}
