// `models import`: puts an export into the model repository as the gateway will serve it. The export
// is loaded first, from where it is (every weights variant it has: tokenizer, graph, probe and warm-up
// inferences), then copied (or linked) under a hidden name and renamed into place, so the repository
// never holds half a model, nor one that would stop the gateway starting.
import { cp, mkdir, readdir, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { ModelLoadError } from '../errors/errors.js';
import { loadFolder } from './model-loader.js';
import { readModelFolder, type FolderSpec } from './model-folder/read-model-folder.js';
import type { ReadFrom } from './model-folder/read-from.js';
import type { Variant } from './model-folder/weights.js';
import { LocalRunner } from './onnx/local-runner.js';
import type { OnnxSettings } from './onnx/session-options.js';
import { ModelRegistry } from './model-registry.js';
import { isModelFolder, VERSION_NAME } from './repository/layout.js';

/** Model names: what a folder may be called and a request may name (`@` is kept for `name@version`). */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ImportOptions {
  /** The export's folder. */
  source: string;
  /** The model repository (MODELS_DIR). */
  modelsDir: string;
  /** Default: the source folder's name. */
  name?: string;
  /**
   * Import as this version of the model: <models>/<name>/<version>/ (several versions side by side,
   * docs/models.md). Without it the export becomes the single folder <models>/<name>/.
   */
  version?: string;
  /** Link the folder instead of copying it. */
  link?: boolean;
  settings: OnnxSettings;
}

export interface ImportReport {
  name: string;
  destination: string;
  mode: 'copied' | 'linked';
  files: number;
  bytes: number;
  /** What was read from which file (fp32 load). */
  readFrom: ReadFrom;
  /** Each weights variant loaded: its file and how long loading it took. */
  loaded: { variant: Variant; file: string; ms: number }[];
  warnings: string[];
}

/** A refusal of the import itself (bad name, clash); problems of the export are ModelLoadErrors. */
export class ImportError extends Error {
  override name = 'ImportError';
}

export async function importModel(options: ImportOptions): Promise<ImportReport> {
  const source = path.resolve(options.source);
  if (!(await stat(source).then((s) => s.isDirectory(), () => false))) throw new ImportError(`${options.source} is not a folder`);
  const name = options.name ?? path.basename(source);
  if (!MODEL_NAME.test(name)) {
    throw new ImportError(`"${name}" cannot be a model name (letters, digits, . _ - ; at most 64; no @): choose one with --name`);
  }
  const modelsDir = path.resolve(options.modelsDir);
  const version = options.version;
  const modelDir = path.join(modelsDir, name);
  const destination = version === undefined ? modelDir : path.join(modelDir, version);
  if (version !== undefined) {
    if (!VERSION_NAME.test(version)) throw new ImportError(`"${version}" cannot be a version (letters, digits, . _ + - ; at most 64)`);
    if (await isModelFolder(modelDir)) {
      throw new ImportError(`${modelDir} is a single-folder model: move its files into a version folder first (e.g. ${path.join(modelDir, '1.0.0')}/), then import the new version beside it`);
    }
  }
  if (await stat(destination).then(() => true, () => false)) {
    const fix = version === undefined ? 'choose another name with --name' : 'choose another --version (a version folder is never changed in place)';
    throw new ImportError(`${destination} already exists: ${fix}, or remove that folder first`);
  }

  const warnings: string[] = [];
  const loaded: ImportReport['loaded'] = [];
  const specs = await variantsOf(source, version);
  for (const [variant, spec] of specs) {
    const started = performance.now();
    const model = await loadFolder(spec, {
      variant,
      name,
      openRunner: (request) => LocalRunner.open(request.file, options.settings, (msg) => warnings.push(msg)),
      log: (level, msg) => void (level === 'warn' && warnings.push(msg)),
    });
    loaded.push({ variant, file: model.file, ms: Math.round(performance.now() - started) });
    await model.close();
  }
  // The first variant loaded, as read and then fitted to its graph (output, dimensions).
  const [, spec] = specs[0]!;
  const readFrom = spec.readFrom;
  await checkAgainstRepository(modelsDir, name, spec);

  // Staged under a hidden name beside its destination (the repository skips hidden folders), then renamed into place.
  await mkdir(path.dirname(destination), { recursive: true });
  const staging = path.join(path.dirname(destination), `.import-${path.basename(destination)}-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  try {
    if (options.link) await symlink(source, staging, 'dir');
    // Dereferenced: a Hugging Face cache snapshot is links into its blob store.
    else await cp(source, staging, { recursive: true, dereference: true, errorOnExist: true });
    await readModelFolder(staging, 'fp32', version); // the copy reads as the source did
    await rename(staging, destination);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
  const { files, bytes } = await sizeOf(destination);
  return { name, destination, mode: options.link ? 'linked' : 'copied', files, bytes, readFrom, loaded, warnings };
}

/** The folder read for fp32, and for int8 too when it has its own int8 file (as `version`'s folder, when given). */
async function variantsOf(folder: string, version: string | undefined): Promise<[Variant, FolderSpec][]> {
  const fp32 = await readModelFolder(folder, 'fp32', version);
  const int8 = await readModelFolder(folder, 'quantized', version);
  const out: [Variant, FolderSpec][] = [];
  if (!fp32.warnings.length) out.push(['fp32', fp32]);
  if (!int8.warnings.length) out.push(['quantized', int8]);
  return out.length > 0 ? out : [['fp32', fp32]];
}

/** What would stop the gateway starting with the new model beside the others: a second default, a missing fallback. */
async function checkAgainstRepository(modelsDir: string, name: string, spec: FolderSpec): Promise<void> {
  // Other models: a new version of `name` is checked against the others, not against its own versions.
  const registry = await ModelRegistry.discover(modelsDir).catch(() => undefined);
  const others = registry?.names ?? [];
  const fallback = spec.modelJson.fallback;
  if (fallback && !others.includes(fallback)) {
    throw new ModelLoadError(spec.folder, `model.json fallback "${fallback}" is not a model in ${modelsDir}: import it first, or remove "fallback"`);
  }
  if (!spec.modelJson.default || !registry) return;
  // As start-up decides defaults: by each other model's serving version (a folder that cannot serve is its own problem).
  for (const other of await registry.inspect(() => 'fp32')) {
    if (other.name === name || !other.serving || !other.inspection) continue;
    if (other.inspection.modelJson.default && other.inspection.task === spec.task) {
      throw new ImportError(
        `${name} is marked default for ${spec.task} (its model.json), and so is ${other.name} (${path.join(other.folder, 'model.json')}): keep "default": true in one of them`,
      );
    }
  }
}

async function sizeOf(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}
