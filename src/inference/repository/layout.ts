// How the model repository (MODELS_DIR) is laid out, read from the file system without opening any
// file: which folders are models, which of them hold several versions, where each version's files
// are, and a stamp of those files (paths, sizes, modification times) so that a reload can tell what
// changed. Layout rules (docs/models.md):
//   <name>/              a model with one version: the folder holds the model's files (model.json,
//                        config.json, model.onnx or onnx/); its version is model.json's or the weights' hash
//   <name>/<version>/    a model with several versions: <name>/ holds no model files of its own, each
//                        subfolder is one version (the folder name is the version), and an optional
//                        <name>/rollout.json says which serves (rollout-file.ts)
// Hidden entries (an import in progress) are skipped; so are folders that are not models (scripts).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelLoadError } from '../../errors/errors.js';

/** What makes a folder a model's own folder (one version). */
export const MODEL_MARKERS = ['model.json', 'config.json', 'model.onnx', 'onnx'];
/** Version folder names: what a request may write after `@`. */
export const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
export const ROLLOUT_FILE = 'rollout.json';

export interface VersionFolder {
  /** The version the folder name gives (several-versions layout); undefined: model.json or the weights decide. */
  version: string | undefined;
  folder: string;
  /** Paths, sizes and modification times of its files: differs whenever a file changes. */
  stamp: string;
}

export interface ModelFolders {
  name: string;
  /** <name>/ itself. */
  dir: string;
  layout: 'single' | 'versions';
  versions: VersionFolder[];
  /** <name>/rollout.json when present (several-versions layout only). */
  rolloutFile: string | undefined;
  /** Stamp of rollout.json ('' when absent). */
  rolloutStamp: string;
  /** What makes the folder unservable as laid out (the model is then not loaded, or not reloaded). */
  problem: ModelLoadError | undefined;
}

export interface RepositoryLayout {
  dir: string;
  models: ModelFolders[];
}

/** Reads the layout of `dir`; throws ModelLoadError when the repository itself cannot be read. */
export async function readLayout(dir: string): Promise<RepositoryLayout> {
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch (e) {
    throw new ModelLoadError(dir, `cannot read the model repository: ${(e as Error).message}`);
  }
  const models: ModelFolders[] = [];
  for (const entry of entries) {
    if (entry.startsWith('.')) continue;
    const folder = path.join(dir, entry);
    if (!(await isDir(folder))) continue;
    const model = await readModel(entry, folder);
    if (model) models.push(model);
  }
  return { dir, models };
}

async function readModel(name: string, dir: string): Promise<ModelFolders | undefined> {
  const base = { name, dir, rolloutFile: undefined, rolloutStamp: '', problem: undefined };
  const fail = (problem: string) => new ModelLoadError(dir, problem);
  const badName = name.includes('@') ? `"${name}" cannot be a model name: "@" separates a name from a version in requests (rename the folder)` : undefined;
  if (await isModelFolder(dir)) {
    const model: ModelFolders = { ...base, layout: 'single', versions: [{ version: undefined, folder: dir, stamp: await stampOf(dir) }] };
    if (badName) model.problem = fail(badName);
    const nested = await versionLike(dir);
    if (nested.length > 0) {
      model.problem = fail(
        `has model files of its own and version folders (${nested.join(', ')}): move its own files into a version folder too (e.g. ${name}/1.0.0/), or move the version folders out`,
      );
    }
    if (await exists(path.join(dir, ROLLOUT_FILE))) {
      model.problem = fail(`${ROLLOUT_FILE} is for models with version folders (${name}/<version>/); a single-folder model has one version`);
    }
    return model;
  }
  const versions: VersionFolder[] = [];
  const problems: string[] = [];
  for (const entry of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const folder = path.join(dir, entry);
    if (entry.startsWith('.') || !(await isDir(folder)) || !(await isModelFolder(folder))) continue;
    if (!VERSION_NAME.test(entry)) problems.push(`version folder "${entry}" is not a version name (letters, digits, . _ + - ; at most 64)`);
    else versions.push({ version: entry, folder, stamp: await stampOf(folder) });
  }
  const rolloutFile = path.join(dir, ROLLOUT_FILE);
  const hasRollout = await exists(rolloutFile);
  if (versions.length === 0 && problems.length === 0 && !hasRollout) return undefined; // not a model
  const model: ModelFolders = {
    ...base,
    layout: 'versions',
    versions,
    rolloutFile: hasRollout ? rolloutFile : undefined,
    rolloutStamp: hasRollout ? await stampOf(rolloutFile) : '',
  };
  if (badName) problems.unshift(badName);
  if (versions.length === 0 && problems.length === 0) problems.push(`has ${ROLLOUT_FILE} but no version folders (${name}/<version>/ holding a model's files)`);
  if (problems.length > 0) model.problem = fail(problems.join('; '));
  return model;
}

/** Subfolders of a single-version folder that look like versions of it (they hold a tokenizer.json). */
async function versionLike(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir).catch(() => [] as string[])).sort()) {
    if (entry.startsWith('.') || entry === 'onnx') continue;
    if ((await isDir(path.join(dir, entry))) && (await exists(path.join(dir, entry, 'tokenizer.json')))) out.push(`${entry}/`);
  }
  return out;
}

/** Whether `folder` is a model's own folder (one version): it holds one of MODEL_MARKERS. */
export async function isModelFolder(folder: string): Promise<boolean> {
  return (await Promise.all(MODEL_MARKERS.map((m) => exists(path.join(folder, m))))).some(Boolean);
}

/**
 * Paths, sizes and modification times of every file under `target` (links followed, hidden entries
 * and Markdown files, which the gateway does not read, skipped), as one string. A file is a stamp of itself.
 */
async function stampOf(target: string, depth = 4): Promise<string> {
  const lines: string[] = [];
  const walk = async (dir: string, rel: string, left: number): Promise<void> => {
    for (const entry of (await readdir(dir).catch(() => [] as string[])).sort()) {
      if (entry.startsWith('.') || entry.endsWith('.md')) continue;
      const full = path.join(dir, entry);
      const info = await stat(full).catch(() => undefined);
      if (!info) continue;
      const relPath = rel ? `${rel}/${entry}` : entry;
      if (info.isDirectory()) {
        if (left > 0) await walk(full, relPath, left - 1);
      } else lines.push(`${relPath}:${info.size}:${info.mtimeMs}`);
    }
  };
  const info = await stat(target).catch(() => undefined);
  if (!info) return '';
  if (!info.isDirectory()) return `${path.basename(target)}:${info.size}:${info.mtimeMs}`;
  await walk(target, '', depth);
  return lines.join('\n');
}

/** The files whose stamps differ between two stamps (added, removed or changed). */
export function changedFiles(before: string, after: string): string[] {
  const parse = (s: string) => new Map(s.split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf(':')), line]));
  const a = parse(before);
  const b = parse(after);
  const out = new Set<string>();
  for (const [file, line] of a) if (b.get(file) !== line) out.add(file);
  for (const file of b.keys()) if (!a.has(file)) out.add(file);
  return [...out].sort();
}

/** One stamp of the whole layout: differs whenever any model's files or rollout.json change. */
export function layoutStamp(layout: RepositoryLayout): string {
  return layout.models
    .map((m) => [`# ${m.name} ${m.layout}`, m.rolloutStamp, ...m.versions.map((v) => `## ${v.version ?? ''}\n${v.stamp}`)].join('\n'))
    .join('\n');
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}
