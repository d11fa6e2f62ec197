// One model's table (its loaded versions, each with the stamp of the files it came from, and its
// rollout) and the checks that the tables of the whole repository can serve together. The registry
// swaps tables in; these checks run first, at start-up and before every reload's swap.
import path from 'node:path';
import { ModelLoadError } from '../errors/errors.js';
import type { Model } from './model.js';
import type { Task } from './model-spec.js';
import type { ModelFolders } from './repository/layout.js';
import { ModelRoutes } from './rollout/model-routes.js';
import type { Rollout } from './rollout/rollout-file.js';

/** One loaded version and the stamp of the files it was loaded from. */
export interface Loaded {
  model: Model;
  stamp: string;
}

/** One model's table: what ModelRegistry.commit() swaps in. */
export interface ModelTable {
  routes: ModelRoutes;
  stamps: Map<Model, string>;
  rolloutStamp: string;
}

/** A model's table from its loaded versions and rollout. */
export function entryOf(folders: ModelFolders, versions: readonly Loaded[], rollout: Rollout): ModelTable {
  const byVersion = new Map(versions.map((v) => [v.model.version, v.model]));
  return {
    routes: new ModelRoutes(folders.name, byVersion, rollout),
    stamps: new Map(versions.map((v) => [v.model, v.stamp])),
    rolloutStamp: folders.rolloutStamp,
  };
}

/**
 * Whether `tables` can serve: the versions of a model do one task; a canary answers like its
 * serving version (labels, dimensions); every fallback exists, does the same task with the same
 * outputs, and no chain loops; at most one default per task. Returns each task's default model.
 */
export function checkTables(tables: ReadonlyMap<string, ModelTable>, dir: string, warn: (msg: string, fields: Record<string, unknown>) => void): Map<Task, string> {
  for (const [name, { routes }] of tables) {
    const serving = routes.serving;
    for (const model of routes.versions.values()) {
      if (model.task !== serving.task) {
        throw new ModelLoadError(
          model.folder,
          `version ${model.version} is ${article(model.task)} model and the serving version ${serving.version} ${article(serving.task)} model: versions of one model do one task`,
        );
      }
    }
    const canary = routes.canary?.model;
    const differs = canary && differentOutputs(serving, canary);
    if (differs) {
      throw new ModelLoadError(
        path.join(dir, name),
        `canary ${canary.version} ${differs.has}, serving ${serving.version} does not: clients of "${name}" would get either by chance; make it a shadow, or pin it`,
      );
    }
  }
  for (const { routes } of tables.values()) {
    for (const model of routes.versions.values()) checkFallback(model, tables, dir);
  }
  const byTask = new Map<Task, Model[]>();
  for (const { routes } of tables.values()) byTask.set(routes.serving.task, [...(byTask.get(routes.serving.task) ?? []), routes.serving]);
  const defaults = new Map<Task, string>();
  for (const [task, models] of byTask) {
    const marked = models.filter((m) => m.spec.default);
    if (marked.length > 1) {
      const files = marked.map((m) => path.relative(dir, path.join(m.folder, 'model.json'))).join(', ');
      throw new ModelLoadError(dir, `${marked.length} ${task} models are marked default (${files}): keep "default": true in one of them`);
    }
    if (marked.length === 1) defaults.set(task, marked[0]!.name);
    else if (models.length === 1) defaults.set(task, models[0]!.name);
    else warn('no default model for a task; requests must name one (set "default": true in one model.json)', { task, models: models.map((m) => m.name) });
  }
  return defaults;
}

/** How `b` answers unlike `a` (labels, dimensions): what `b` has, and what `a` has instead; or undefined. */
function differentOutputs(a: Model, b: Model): { has: string; not: string } | undefined {
  if (a.spec.task === 'classification' && b.spec.task === 'classification' && a.spec.labels.join() !== b.spec.labels.join()) {
    return { has: `has labels [${b.spec.labels}]`, not: `[${a.spec.labels}]` };
  }
  if (a.spec.task === 'embedding' && b.spec.task === 'embedding' && a.spec.dimensions !== b.spec.dimensions) {
    return { has: `has ${b.spec.dimensions} dimensions`, not: `${a.spec.dimensions}` };
  }
  return undefined;
}

function checkFallback(model: Model, tables: ReadonlyMap<string, ModelTable>, dir: string): void {
  const seen = new Set([model.name]);
  for (let cur = model; cur.spec.fallback; ) {
    const next = tables.get(cur.spec.fallback)?.routes.serving;
    const where = cur.folder;
    if (!next) throw new ModelLoadError(where, `fallback "${cur.spec.fallback}" is not a model in ${dir}`);
    if (next.task !== cur.task) throw new ModelLoadError(where, `fallback "${next.name}" is a ${next.task} model, not ${cur.task}`);
    const differs = differentOutputs(cur, next);
    if (differs) throw new ModelLoadError(where, `fallback "${next.name}" ${differs.has}, not ${differs.not}`);
    if (seen.has(next.name)) throw new ModelLoadError(where, `fallback chain loops back to "${next.name}"`);
    seen.add(next.name);
    cur = next;
  }
}

function article(task: string): string {
  return `${/^[aeiou]/i.test(task) ? 'an' : 'a'} ${task}`;
}
