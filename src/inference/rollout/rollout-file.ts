// rollout.json: how a model with several versions shares its traffic. Beside the version folders
// (<name>/rollout.json), read at start-up and on every reload, so that a rollout, a promotion and a
// rollback are each an edit of this file (docs/models.md):
//   { "serving": "1.0.0",                                  plain `name` requests go here ...
//     "canary": { "version": "1.1.0", "share": 0.1 },      ... except this share of texts, answered by the canary
//     "shadow": { "version": "2.0.0", "sample": 0.25 } }   this share of the serving answers is also computed here, to compare
// Every key is optional; without the file (or without "serving") the highest version serves.
import path from 'node:path';
import { z } from 'zod';
import { ModelLoadError } from '../../errors/errors.js';
import { FolderFiles } from '../model-folder/folder-files.js';
import { ROLLOUT_FILE, VERSION_NAME, type ModelFolders } from '../repository/layout.js';

const version = z.string().regex(VERSION_NAME, 'a version folder name');
const share = z.number().min(0).max(1);

export const rolloutFileSchema = z.strictObject({
  /** The version plain `name` requests get (less the canary's share). Default: the highest version. */
  serving: version.optional(),
  /** A version answering `share` (0..1) of the texts of plain `name` requests, chosen by a hash of the text. */
  canary: z.strictObject({ version, share }).optional(),
  /** A version also computing `sample` (0..1) of the texts the serving version answers; its answers are compared, never returned. */
  shadow: z.strictObject({ version, sample: share }).optional(),
});
export type RolloutFile = z.infer<typeof rolloutFileSchema>;

/** A model's rollout with every version named and checked against its version folders. */
export interface Rollout {
  serving: string;
  canary?: { version: string; share: number };
  shadow?: { version: string; sample: number };
}

/** The rollout of a single-folder model: its one version serves. */
function singleRollout(version: string): Rollout {
  return { serving: version };
}

/** Reads and checks `file` of `folder` (absent: undefined); bad JSON or keys fail naming the file. */
async function readRolloutFile(file: string | undefined, folder: string): Promise<RolloutFile | undefined> {
  if (!file) return undefined;
  return new FolderFiles(folder).readOptional(
    path.relative(folder, file),
    rolloutFileSchema,
    'it may hold "serving", "canary": {"version", "share"} and "shadow": {"version", "sample"}',
  );
}

/**
 * The rollout of a model laid out as `folders` whose versions are `versions`: a single folder's one
 * version serves; several versions share traffic as rollout.json says (resolveRollout).
 */
export async function rolloutOf(folders: ModelFolders, versions: readonly string[]): Promise<Rollout> {
  if (folders.layout === 'single') return singleRollout(versions[0]!);
  return resolveRollout(await readRolloutFile(folders.rolloutFile, folders.dir), versions, folders.dir);
}

/** Numeric-aware order of version names: 1.9.0 < 1.10.0, v2 < v10. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * The rollout of a model whose version folders are `versions`: the file's choices checked against
 * them (every version named must be one of them; canary and shadow differ from the serving version).
 * Throws ModelLoadError naming the folder and the fix.
 */
function resolveRollout(file: RolloutFile | undefined, versions: readonly string[], folder: string): Rollout {
  const fail = (problem: string): never => {
    throw new ModelLoadError(folder, problem);
  };
  const sorted = [...versions].sort(compareVersions);
  if (sorted.length === 0) return fail('has no version folders');
  const known = (key: string, v: string) => {
    if (!versions.includes(v)) fail(`${ROLLOUT_FILE} ${key} "${v}" is not one of its version folders (${sorted.join(', ')})`);
    return v;
  };
  const serving = file?.serving ? known('serving', file.serving) : sorted.at(-1)!;
  const rollout: Rollout = { serving };
  if (file?.canary) {
    if (file.canary.version === serving) fail(`${ROLLOUT_FILE} canary "${serving}" is the serving version: name another version, or remove "canary"`);
    rollout.canary = { version: known('canary.version', file.canary.version), share: file.canary.share };
  }
  if (file?.shadow) {
    if (file.shadow.version === serving) fail(`${ROLLOUT_FILE} shadow "${serving}" is the serving version: name another version, or remove "shadow"`);
    rollout.shadow = { version: known('shadow.version', file.shadow.version), sample: file.shadow.sample };
  }
  return rollout;
}
