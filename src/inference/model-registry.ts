// The model repository: finds model folders, loads them all (or none), and answers which model serves
// a request. A folder is a model when it has model.json, config.json, model.onnx or onnx/; other
// folders (build scripts, training code) are not models; neither are hidden ones (an import in progress).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ModelLoadError, ModelNotFoundError, ModelUnavailableError, WrongTaskError } from '../errors/errors.js';
import type { Model } from './model.js';
import type { Task } from './model-spec.js';
import type { FolderSpec } from './model-folder/read-model-folder.js';
import { inspectModelFolder, loadModel, type LoadOptions, type Variant } from './model-loader.js';

const MODEL_MARKERS = ['model.json', 'config.json', 'model.onnx', 'onnx'];

export interface FolderReport {
  name: string;
  folder: string;
  inspection?: FolderSpec;
  error?: ModelLoadError;
}

export class ModelRegistry {
  private readonly models = new Map<string, Model>();
  private readonly defaults = new Map<Task, Model>();

  private constructor(
    readonly dir: string,
    /** Every model folder found, loaded or not yet. */
    readonly names: readonly string[],
  ) {}

  /** Lists the model folders of `dir` without loading them (so health can name them at once). */
  static async discover(dir: string): Promise<ModelRegistry> {
    let entries: string[];
    try {
      entries = (await readdir(dir)).sort();
    } catch (e) {
      throw new ModelLoadError(dir, `cannot read the model repository: ${(e as Error).message}`);
    }
    const names: string[] = [];
    for (const entry of entries) {
      if (entry.startsWith('.')) continue;
      const folder = path.join(dir, entry);
      if (!(await isDir(folder))) continue;
      const present = await Promise.all(MODEL_MARKERS.map((m) => exists(path.join(folder, m))));
      if (present.some(Boolean)) names.push(entry);
    }
    if (names.length === 0) throw new ModelLoadError(dir, 'no model folders (a model folder holds model.json)');
    return new ModelRegistry(dir, names);
  }

  /**
   * Checks every folder without loading it (files present, model.json and config.json valid): one
   * entry per folder, with what it declares or the problem that would stop loading it.
   */
  async inspect(variantOf: (name: string) => Variant): Promise<FolderReport[]> {
    return Promise.all(
      this.names.map(async (name) => {
        const folder = path.join(this.dir, name);
        try {
          return { name, folder, inspection: await inspectModelFolder(folder, variantOf(name)) };
        } catch (e) {
          if (e instanceof ModelLoadError) return { name, folder, error: e };
          throw e;
        }
      }),
    );
  }

  /** Loads every model in turn; on any failure closes what was loaded and throws. */
  async loadAll(options: Omit<LoadOptions, 'variant'> & { variantOf: (name: string) => Variant }): Promise<void> {
    try {
      for (const name of this.names) {
        const started = performance.now();
        const model = await loadModel(path.join(this.dir, name), { ...options, variant: options.variantOf(name) });
        this.models.set(name, model);
        options.log('info', 'model loaded', {
          model: name,
          task: model.task,
          version: model.version,
          file: model.file,
          provider: model.executionProvider,
          ms: Math.round(performance.now() - started),
        });
      }
      this.resolveDefaults((msg, fields) => options.log('warn', msg, fields));
      this.checkFallbacks();
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  isReady(name: string): boolean {
    return this.models.has(name);
  }

  get allReady(): boolean {
    return this.names.every((n) => this.models.has(n));
  }

  list(): Model[] {
    return [...this.models.values()];
  }

  isDefault(model: Model): boolean {
    return this.defaults.get(model.task) === model;
  }

  /** The model that serves a request for `task`, by name or the task's default. */
  resolve(name: string | null | undefined, task: Task): Model {
    if (!this.allReady) throw new ModelUnavailableError('models are still loading; retry when /readyz answers 200');
    if (name == null) {
      const model = this.defaults.get(task);
      if (!model) throw new ModelNotFoundError(`(default ${task} model)`, this.list().map((m) => m.name));
      return model;
    }
    const model = this.models.get(name);
    if (!model) throw new ModelNotFoundError(name, this.list().map((m) => m.name));
    if (model.task !== task) throw new WrongTaskError(name, model.task, task);
    return model;
  }

  get(name: string): Model | undefined {
    return this.models.get(name);
  }

  async close(): Promise<void> {
    const open = [...this.models.values()];
    this.models.clear();
    await Promise.all(open.map((m) => m.close().catch(() => undefined)));
  }

  /**
   * One default per task: the one marked in its model.json, or the only model of the task. Several
   * unmarked models leave the task without a default (requests must name a model), so that exports
   * dropped into the repository as they are still serve; two marked defaults are a contradiction.
   */
  private resolveDefaults(warn: (msg: string, fields: Record<string, unknown>) => void): void {
    const byTask = new Map<Task, Model[]>();
    for (const m of this.models.values()) byTask.set(m.task, [...(byTask.get(m.task) ?? []), m]);
    for (const [task, models] of byTask) {
      const marked = models.filter((m) => m.spec.default);
      if (marked.length > 1) {
        const files = marked.map((m) => `${m.name}/model.json`).join(', ');
        throw new ModelLoadError(this.dir, `${marked.length} ${task} models are marked default (${files}): keep "default": true in one of them`);
      }
      if (marked.length === 1) this.defaults.set(task, marked[0]!);
      else if (models.length === 1) this.defaults.set(task, models[0]!);
      else {
        warn('no default model for a task; requests must name one (set "default": true in one model.json)', {
          task,
          models: models.map((m) => m.name),
        });
      }
    }
  }

  private checkFallbacks(): void {
    for (const m of this.models.values()) {
      const seen = new Set([m.name]);
      for (let cur = m; cur.spec.fallback; ) {
        const next = this.models.get(cur.spec.fallback);
        const where = path.join(this.dir, cur.name);
        if (!next) throw new ModelLoadError(where, `fallback "${cur.spec.fallback}" is not a model in ${this.dir}`);
        if (next.task !== cur.task) throw new ModelLoadError(where, `fallback "${next.name}" is a ${next.task} model, not ${cur.task}`);
        if (cur.spec.task === 'embedding' && next.spec.task === 'embedding' && next.spec.dimensions !== cur.spec.dimensions) {
          throw new ModelLoadError(where, `fallback "${next.name}" has ${next.spec.dimensions} dimensions, not ${cur.spec.dimensions}`);
        }
        if (cur.spec.task === 'classification' && next.spec.task === 'classification' && next.spec.labels.join() !== cur.spec.labels.join()) {
          throw new ModelLoadError(where, `fallback "${next.name}" has labels [${next.spec.labels}], not [${cur.spec.labels}]`);
        }
        if (seen.has(next.name)) throw new ModelLoadError(where, `fallback chain loops back to "${next.name}"`);
        seen.add(next.name);
        cur = next;
      }
    }
  }
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isDirectory(), () => false);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}
