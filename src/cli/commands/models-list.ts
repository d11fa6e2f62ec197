// `nlp-gateway models list`: what each folder of the repository declares (its config, tokenizer and
// model.json files, as start-up reads them), without loading any model into onnxruntime (a folder that
// names no version is versioned by a hash of its weights file, which is read for it), with the problem
// of any folder start-up would refuse for its files.
import type { Command } from 'commander';
import { ModelLoadError } from '../../errors/errors.js';
import { ModelRegistry, type FolderReport } from '../../inference/model-registry.js';
import { CliError } from '../cli-error.js';
import { commandConfig } from '../config.js';
import { ExitCode } from '../exit-codes.js';

interface Row {
  name: string;
  task?: string;
  version?: string;
  default?: boolean;
  fallback?: string;
  maxTokens?: number;
  output?: string;
  weights?: string;
  problem?: string;
}

function rowOf(report: FolderReport): Row {
  // A version folder (<name>/<version>/) is listed as name@version, as requests pin it.
  const name = report.version === undefined ? report.name : `${report.name}@${report.version}`;
  if (!report.inspection) return { name, problem: report.error?.message };
  const spec = report.inspection;
  return {
    name,
    task: spec.task,
    version: spec.version,
    default: spec.modelJson.default ?? false,
    fallback: spec.modelJson.fallback,
    maxTokens: spec.maxTokens,
    output:
      spec.task === 'classification'
        ? `labels ${spec.labels!.join(',')}`
        : `${spec.modelJson.dimensions ? `${spec.modelJson.dimensions} dims, ` : ''}${spec.pooling} pooling`,
    weights: spec.weights,
  };
}

function table(rows: Row[]): string {
  const head = ['MODEL', 'TASK', 'VERSION', 'DEFAULT', 'FALLBACK', 'MAX TOKENS', 'OUTPUT', 'WEIGHTS'];
  const cells = rows.map((r) =>
    r.problem
      ? [r.name, `PROBLEM: ${r.problem}`]
      : [r.name, r.task!, r.version!, r.default ? 'yes' : '', r.fallback ?? '', String(r.maxTokens), r.output!, r.weights!],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...cells.filter((c) => c.length > 2).map((c) => c[i]!.length)));
  const line = (c: string[]) => (c.length === 2 ? `${c[0]!.padEnd(widths[0]!)}  ${c[1]}` : c.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd());
  return [line(head), ...cells.map(line)].join('\n');
}

export function registerModelsList(models: Command): void {
  models
    .command('list')
    .description('list the models of the repository (reads their files, hashing the weights where no version is set; loads no model)')
    .option('-d, --dir <dir>', 'model repository (MODELS_DIR; default models/ of this repository)')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { dir?: string; json?: boolean }) => {
      const config = commandConfig({ MODELS_DIR: options.dir });
      let registry: ModelRegistry;
      try {
        registry = await ModelRegistry.discover(config.MODELS_DIR);
      } catch (e) {
        if (e instanceof ModelLoadError) throw new CliError(e.message, ExitCode.MODELS_INVALID);
        throw e;
      }
      const rows = (await registry.inspect((name) => config.MODEL_VARIANTS[name] ?? config.ONNX_VARIANT)).map(rowOf);
      process.stdout.write(options.json ? `${JSON.stringify({ dir: config.MODELS_DIR, models: rows }, null, 2)}\n` : `${table(rows)}\n`);
    });
}
