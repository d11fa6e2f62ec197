// The exported-model fixtures (test/fixtures/exports, built by test/fixtures/export-builder/build.py)
// and how @huggingface/transformers loads each of them: the reference the gateway must agree with.
import { cp, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from './gateway-process.js';

export const EXPORTS = path.join(REPO, 'test/fixtures/exports');

export interface ExportFixture {
  name: string;
  task: 'classification' | 'embedding';
  /** Folder of the ONNX files: '' (Optimum) or 'onnx' (transformers.js, sentence-transformers). */
  subfolder: '' | 'onnx';
  /** Base names of the fp32 and int8 files, as exported. */
  fp32: string;
  int8: string;
  /** How the reference gets a vector: transformers.js pooling, or the graph's sentence_embedding. */
  pooling?: 'mean' | 'cls' | 'sentence_embedding';
  /** What the folder says about normalising (sentence-transformers modules.json). */
  normalize?: boolean;
}

export const FIXTURES: readonly ExportFixture[] = [
  { name: 'bert', task: 'classification', subfolder: '', fp32: 'model', int8: 'model_quantized' },
  { name: 'distilbert', task: 'classification', subfolder: 'onnx', fp32: 'model', int8: 'model_quantized' },
  { name: 'roberta', task: 'classification', subfolder: '', fp32: 'model', int8: 'model_quantized' },
  { name: 'xlm-roberta', task: 'classification', subfolder: 'onnx', fp32: 'model', int8: 'model_quantized' },
  { name: 'mpnet', task: 'embedding', subfolder: 'onnx', fp32: 'model', int8: 'model_qint8_avx512_vnni', pooling: 'mean', normalize: true },
  { name: 'st-cls', task: 'embedding', subfolder: 'onnx', fp32: 'model', int8: 'model_quantized', pooling: 'cls', normalize: true },
  { name: 'st-dense', task: 'embedding', subfolder: '', fp32: 'model', int8: 'model_quantized', pooling: 'sentence_embedding', normalize: true },
];

export type Variant = 'fp32' | 'int8';

/** The name a fixture is served under for a variant: `bert`, `bert-int8`. */
export const servedName = (f: ExportFixture, v: Variant) => (v === 'fp32' ? f.name : `${f.name}-int8`);

/**
 * A model repository serving every fixture twice, as it is (fp32) and as `<name>-int8` (the same
 * folder, linked, with MODEL_VARIANTS asking for its int8 file). Returns the directory and env.
 */
export async function exportsRepo(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'nlp-exports-'));
  for (const f of FIXTURES) {
    await symlink(path.join(EXPORTS, f.name), path.join(dir, servedName(f, 'fp32')));
    await symlink(path.join(EXPORTS, f.name), path.join(dir, servedName(f, 'int8')));
  }
  const variants = FIXTURES.map((f) => `${servedName(f, 'int8')}=quantized`).join(',');
  return { dir, env: { MODELS_DIR: dir, MODEL_VARIANTS: variants } };
}

/** Texts that reach every corner of the four tokenizers: scripts, accents, emoji, NFKC, spacing, specials, truncation. */
export const TEXTS: readonly string[] = [
  'The cat sat on the mat.',
  'WIN a FREE cruise, click now!!!',
  'Der Zug nach München fährt um acht Uhr ab.',
  '東京で会いましょう。駅の前で待っています 😀',
  "naïve résumé café crème à l'hôtel Zürich ÅNGSTRÖM",
  'ｆｕｌｌｗｉｄｔｈ ｌｅｔｔｅｒｓ and the ﬁle ﬂow',
  '  leading and   repeated   spaces\tand\ttabs\n',
  'Кошка сидит на окне и смотрит на улицу.',
  '<s> [CLS] literal special tokens [SEP] </s> <mask> [UNK]',
  'x',
  'The quarterly report was reviewed by the committee, which surprised everybody. '.repeat(12),
];

const SUBJECTS = ['the cat', 'a dog', 'my neighbour', 'the committee', 'our team', 'the server', 'a stranger', 'the library'];
const VERBS = ['sat on', 'ignored', 'reviewed', 'approved', 'cancelled', 'translated'];
const OBJECTS = ['the mat', 'the invoice', 'the meeting', 'the budget', 'the password', 'a long email'];

/**
 * Up to `n` different texts that all tokenize to the same length under `length`: a batch of them needs
 * no padding, so a batcher has no reason to split it into several calls.
 */
export function sameLengthTexts(length: (text: string) => number, n = 6): string[] {
  const byLength = new Map<number, string[]>();
  for (const s of SUBJECTS) for (const v of VERBS) for (const o of OBJECTS) {
    const text = `${s} ${v} ${o}.`;
    const k = length(text);
    byLength.set(k, [...(byLength.get(k) ?? []), text]);
  }
  const largest = [...byLength.values()].sort((a, b) => b.length - a.length)[0]!;
  // Spread over the group, so that the texts differ in more than one word.
  const step = Math.max(1, Math.floor(largest.length / n));
  return largest.filter((_, i) => i % step === 0).slice(0, n);
}

/**
 * A copy of a fixture folder (as a user's export would be), changed by `edit` if given: at `dest` if
 * given, else a throw-away one in a new temporary directory.
 */
export async function copyExport(fixture: string, edit?: (folder: string) => Promise<void>, dest?: string): Promise<string> {
  const folder = dest ?? path.join(await mkdtemp(path.join(tmpdir(), 'nlp-export-')), fixture);
  await cp(path.join(EXPORTS, fixture), folder, { recursive: true });
  await edit?.(folder);
  return folder;
}
