// The folder's spec against the exported graph, once a session is open: the inputs must be ones the
// gateway fills, the output the task reads must exist, and one probe inference gives its width, which
// must match the labels (classifiers) and gives the dimensions (embedders). A sentence-transformers
// export with a `sentence_embedding` output is served from that output (its module chain, Dense and
// Normalize included, is in the graph).
import { modelSpecSchema, type ModelSpec } from '../model-spec.js';
import { FEEDABLE_INPUTS } from '../onnx/run-call.js';
import { CLASSIFICATION_OUTPUTS, POOLED_OUTPUTS, TOKEN_OUTPUTS, type ModelRunner } from '../runner.js';
import { FolderFiles } from './folder-files.js';
import { note } from './read-from.js';
import type { FolderSpec } from './read-model-folder.js';

type GraphView = Pick<ModelRunner, 'inputNames' | 'outputNames' | 'probe'>;

export interface Probe {
  /** Token ids of a short text, special tokens included. */
  ids: Int32Array;
  padId: number;
}

const ST_EXPORT = 'export the whole sentence-transformers pipeline: `optimum-cli export onnx --library sentence_transformers --model <model> <folder>` (its sentence_embedding output holds it)';

export async function fitToGraph(folderSpec: FolderSpec, graph: GraphView, probe: Probe): Promise<ModelSpec> {
  const files = new FolderFiles(folderSpec.folder);
  const file = folderSpec.weights;
  checkInputs(files, file, graph.inputNames);

  const { task, modelJson, readFrom } = folderSpec;
  const common = {
    version: folderSpec.version,
    maxTokens: folderSpec.maxTokens,
    fallback: modelJson.fallback,
    default: modelJson.default ?? false,
    baseline: modelJson.baseline,
  };
  const outputs = graph.outputNames;

  if (task === 'classification') {
    const output = pick(files, file, outputs, CLASSIFICATION_OUTPUTS, 'logits', 'export it for text-classification');
    const dims = await probeDims(files, file, graph, probe, output);
    const labels = folderSpec.labels!;
    if (dims.length !== 2 || dims[1] !== labels.length) {
      const source = readFrom.labels?.from ?? 'config.json id2label';
      return files.fail(
        `${file} output ${output} has dims [${dims.join(', ')}], so ${dims.length === 2 ? `${dims[1]} labels` : 'no label per column'}, but ${source} has ${labels.length} [${labels.join(', ')}]: list one label per logit`,
      );
    }
    note(readFrom, 'output', { value: output, from: `${file} (${outputs.join(', ')})` });
    return modelSpecSchema.parse({ task, labels, ...common });
  }

  // Embedding: a pooled output wins unless model.json says how to pool.
  const chain = folderSpec.chain;
  const pooledOutput = outputs.includes('sentence_embedding') ? 'sentence_embedding' : undefined;
  let pooling = folderSpec.pooling!;
  if (!modelJson.pooling && pooledOutput) {
    pooling = note(readFrom, 'pooling', { value: 'none', from: `${file} output ${pooledOutput} (pooled in the graph)` });
  } else if (!modelJson.pooling && chain?.needsPooledOutput) {
    return files.fail(`${chain.needsPooledOutput}, and ${file} has no sentence_embedding output (it has ${outputs.join(', ')}): ${ST_EXPORT}`);
  }
  const output =
    pooling === 'none'
      ? pick(files, file, outputs, POOLED_OUTPUTS, 'a pooled embedding', ST_EXPORT)
      : pick(files, file, outputs, TOKEN_OUTPUTS, 'token embeddings', 'export it for feature-extraction');
  const dims = await probeDims(files, file, graph, probe, output);
  const rank = pooling === 'none' ? 2 : 3;
  if (dims.length !== rank) {
    return files.fail(`${file} output ${output} has dims [${dims.join(', ')}]; ${pooling === 'none' ? 'a pooled embedding is [batch, dimensions]' : 'token embeddings are [batch, tokens, dimensions]'}`);
  }
  const width = dims[rank - 1]!;
  if (modelJson.dimensions !== undefined && modelJson.dimensions !== width) {
    return files.fail(`model.json dimensions ${modelJson.dimensions} differ from ${file} output ${output} width ${width}: remove "dimensions" from model.json`);
  }
  note(readFrom, 'dimensions', { value: width, from: `${file} output ${output}` });
  note(readFrom, 'output', { value: output, from: `${file} (${outputs.join(', ')})` });
  return modelSpecSchema.parse({ task, pooling, dimensions: width, normalize: folderSpec.normalize, ...common });
}

function checkInputs(files: FolderFiles, file: string, inputs: readonly string[]): void {
  if (!inputs.includes('input_ids')) {
    files.fail(`${file} has no input_ids input (it has ${inputs.join(', ')}): export a text model for text-classification or feature-extraction`);
  }
  const unknown = inputs.filter((n) => !(FEEDABLE_INPUTS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    files.fail(
      `${file} needs inputs the gateway cannot fill: ${unknown.join(', ')} (it fills ${FEEDABLE_INPUTS.join(', ')}); export it for text-classification or feature-extraction, without past key values`,
    );
  }
}

function pick(files: FolderFiles, file: string, outputs: readonly string[], wanted: readonly string[], what: string, fix: string): string {
  const hit = wanted.find((w) => outputs.includes(w));
  if (hit) return hit;
  // A lone output is read whatever its name, unless it is a language model's logits read as embeddings.
  if (outputs.length === 1 && (outputs[0] !== 'logits' || wanted.includes('logits'))) return outputs[0]!;
  return files.fail(`${file} has no output holding ${what} (looked for ${wanted.join(', ')}; it has ${outputs.join(', ')}): ${fix}`);
}

async function probeDims(files: FolderFiles, file: string, graph: GraphView, probe: Probe, output: string): Promise<readonly number[]> {
  try {
    const { dims } = await graph.probe({ ids: Int32Array.from(probe.ids), lengths: Int32Array.of(probe.ids.length) }, output, probe.padId);
    return dims;
  } catch (e) {
    return files.fail(
      `${file} failed its first inference: ${String((e as Error)?.message ?? e).split('\n')[0]}; export it for text-classification or feature-extraction with dynamic batch and sequence axes`,
    );
  }
}
