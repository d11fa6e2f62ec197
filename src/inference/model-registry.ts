// The model repository as it serves: every model's loaded versions and rollout (model-routes.ts),
// which model is each task's default, and what a request's `model` argument resolves to: `name` (the
// serving version, or the canary for its share of texts), `name@version` (that version), or nothing
// (the task's default). It also keeps what a version is doing that is not serving (loading, failed,
// draining, retired) so that `models`, health and metrics can show every version. Start-up loads
// every folder or none (loadAll); a reload (service/model-reloader.ts) swaps one model's table at a
// time with commit(), which checks the new table first and changes nothing when it does not hold.
import path from 'node:path';
import { ModelLoadError, ModelNotFoundError, ModelUnavailableError, WrongTaskError } from '../errors/errors.js';
import type { Model } from './model.js';
import type { Task } from './model-spec.js';
import { readModelFolder, type FolderSpec } from './model-folder/read-model-folder.js';
import { loadFolder, type FolderLoadOptions, type Variant } from './model-loader.js';
import { MODEL_MARKERS, readLayout, type ModelFolders, type RepositoryLayout, type VersionFolder } from './repository/layout.js';
import { checkTables, entryOf, type Loaded, type ModelTable } from './model-table.js';
import type { ModelRoutes, Role } from './rollout/model-routes.js';
import { compareVersions, rolloutOf } from './rollout/rollout-file.js';

export interface FolderReport {
  name: string;
  /** The version folder's version (several-versions layout). */
  version?: string;
  folder: string;
  inspection?: FolderSpec;
  /** True for the version plain requests get (its rollout's serving version), once its folder and rollout read. */
  serving?: boolean;
  error?: ModelLoadError;
}

/**
 * What a version is doing. Loaded ones take part in traffic (SERVING, CANARY, SHADOW; STANDBY only
 * answers requests that pin it); LOADING and FAILED are new folders not (yet) serving; DRAINING
 * versions finish the work they have and take no more; RETIRED ones are closed.
 */
export type VersionState = Role | 'LOADING' | 'FAILED' | 'DRAINING' | 'RETIRED';

export interface VersionStatus {
  name: string;
  version: string;
  state: VersionState;
  /** The loaded model (loaded states and DRAINING). */
  model?: Model;
  /** Share of plain-name texts it answers. */
  share: number;
  /** SHADOW: share of the serving version's answers it also computes. */
  sample: number;
  /** FAILED: why (the folder and the problem). */
  problem?: string;
  /** When it entered this state (ms since the epoch). */
  since: number;
}

/** What a request's `model` argument resolved to: the model, and which version answers each text. */
export interface ModelChoice {
  name: string;
  /** True for `name@version`. */
  pinned: boolean;
  pick(text: string): Model;
  /** Every version `pick` can return. */
  models: readonly Model[];
}

export type RegistryLoadOptions = Omit<FolderLoadOptions, 'variant' | 'name'> & { variantOf: (name: string) => Variant };


/** How many versions that stopped serving (failed, retired) each model keeps listing. */
const HISTORY = 4;

export class ModelRegistry {
  private readonly entries = new Map<string, ModelTable>();
  private readonly defaults = new Map<Task, string>();
  /** Versions not in a model's table: loading, failed, draining, retired (newest last). */
  private readonly history = new Map<string, VersionStatus[]>();
  /** When each loaded version entered its current role. */
  private readonly roleSince = new WeakMap<Model, { role: Role; since: number }>();
  /** The last reload problem of a model (cleared by its next good reload). */
  private readonly problems = new Map<string, string>();
  private modelNames: string[];
  /** What inspect() read of each version folder (by folder and variant), for loadAll to load without reading it again. */
  private readonly inspected = new Map<string, FolderSpec>();

  private constructor(
    readonly dir: string,
    /** The layout as found by discover() (start-up loads exactly this). */
    readonly layout: RepositoryLayout,
  ) {
    this.modelNames = layout.models.map((m) => m.name);
  }

  /** Lists the model folders of `dir` without loading them (so health can name them at once). */
  static async discover(dir: string): Promise<ModelRegistry> {
    const layout = await readLayout(dir);
    if (layout.models.length === 0) {
      throw new ModelLoadError(dir, `no model folders (a model folder holds one of ${MODEL_MARKERS.join(', ')}, or version folders that do)`);
    }
    return new ModelRegistry(dir, layout);
  }

  /** Every model's name: those found at start-up and those a reload added. */
  get names(): readonly string[] {
    return this.modelNames;
  }

  /** `names`, and the names of new folders a reload could not serve (no version of theirs serves). */
  namesWithProblems(): string[] {
    const extra = [...this.problems.keys(), ...this.history.keys()].filter((n) => !this.modelNames.includes(n));
    return [...this.modelNames, ...new Set(extra)];
  }

  /**
   * Checks every folder without loading it (layout, files present, model.json, config.json and
   * rollout.json valid): one entry per version folder, with what it declares or the problem that
   * would stop loading it.
   */
  async inspect(variantOf: (name: string) => Variant): Promise<FolderReport[]> {
    const reports = (await Promise.all(this.layout.models.map((m) => inspectModel(m, variantOf(m.name))))).flat();
    this.inspected.clear();
    for (const r of reports) if (r.inspection) this.inspected.set(inspectedKey(r.folder, variantOf(r.name)), r.inspection);
    return reports;
  }

  /**
   * Start-up: loads every version of every model in turn (from what inspect() read, when it ran); on
   * any failure closes what was loaded and throws.
   */
  async loadAll(options: RegistryLoadOptions): Promise<void> {
    const loaded: Model[] = [];
    try {
      const tables = new Map<string, ModelTable>();
      for (const folders of this.layout.models) {
        if (folders.problem) throw folders.problem;
        const versions: Loaded[] = [];
        for (const folder of folders.versions) {
          const one = await loadVersion(folders.name, folder, await this.readVersion(folder, options.variantOf(folders.name)), options);
          loaded.push(one.model);
          versions.push(one);
        }
        const rollout = await rolloutOf(folders, versions.map((v) => v.model.version));
        tables.set(folders.name, entryOf(folders, versions, rollout));
      }
      const defaults = checkTables(tables, this.dir, (msg, fields) => options.log('warn', msg, fields));
      for (const [name, entry] of tables) this.install(name, entry);
      this.setDefaults(defaults);
    } catch (e) {
      await Promise.all(loaded.map((m) => m.close().catch(() => undefined)));
      throw e;
    }
  }

  isReady(name: string): boolean {
    return this.entries.has(name);
  }

  get allReady(): boolean {
    return this.modelNames.every((n) => this.entries.has(n));
  }

  /** The serving version of every model. */
  list(): Model[] {
    return [...this.entries.values()].map((e) => e.routes.serving);
  }

  /** Every loaded version of every model (each has its own lane in the inference path). */
  loaded(): Model[] {
    return [...this.entries.values()].flatMap((e) => [...e.routes.versions.values()]);
  }

  /** True for the serving version of a task's default model. */
  isDefault(model: Model): boolean {
    return this.defaults.get(model.task) === model.name && this.get(model.name) === model;
  }

  /**
   * What serves a request for `task`: `name` (its serving version, or its canary for the canary's
   * share of texts), `name@version` (that version), or the task's default model when `ref` is empty.
   */
  resolve(ref: string | null | undefined, task: Task): ModelChoice {
    if (!this.allReady) throw new ModelUnavailableError('models are still loading; retry when /readyz answers 200');
    const at = ref?.lastIndexOf('@') ?? -1;
    const name = ref == null ? this.defaults.get(task) : at >= 0 ? ref.slice(0, at) : ref;
    if (name === undefined) throw new ModelNotFoundError(`(default ${task} model)`, [...this.entries.keys()]);
    const entry = this.entries.get(name);
    if (!entry) throw new ModelNotFoundError(ref ?? name, [...this.entries.keys()]);
    if (entry.routes.serving.task !== task) throw new WrongTaskError(name, entry.routes.serving.task, task);
    if (at < 0 || ref == null) {
      const routes = entry.routes;
      return { name, pinned: false, pick: (text) => routes.pick(text), models: routes.reachable };
    }
    const version = ref!.slice(at + 1);
    const pinned = entry.routes.versions.get(version);
    if (!pinned) {
      const serving = [...entry.routes.versions.keys()].sort(compareVersions).map((v) => `${name}@${v}`);
      throw new ModelNotFoundError(ref!, serving);
    }
    return { name, pinned: true, pick: () => pinned, models: [pinned] };
  }

  /** The serving version of `name`. */
  get(name: string): Model | undefined {
    return this.entries.get(name)?.routes.serving;
  }

  routesOf(name: string): ModelRoutes | undefined {
    return this.entries.get(name)?.routes;
  }

  /** When `model` serves its name and a shadow version follows it: that version and its sample. */
  shadowOf(model: Model): { model: Model; sample: number } | undefined {
    const routes = this.entries.get(model.name)?.routes;
    return routes && routes.serving === model && routes.shadow && routes.shadow.sample > 0 ? routes.shadow : undefined;
  }

  /** Every version of `name` with its state: the loaded ones, then loading, failed, draining and retired ones. */
  versionsOf(name: string): VersionStatus[] {
    const out: VersionStatus[] = [];
    const entry = this.entries.get(name);
    if (entry) {
      for (const [version, model] of [...entry.routes.versions].sort(([a], [b]) => compareVersions(a, b))) {
        const role = entry.routes.roleOf(model)!;
        out.push({
          name,
          version,
          state: role,
          model,
          share: entry.routes.shareOf(model),
          sample: role === 'SHADOW' ? (entry.routes.shadow?.sample ?? 0) : 0,
          since: this.roleSince.get(model)?.since ?? Date.now(),
        });
      }
    }
    return [...out, ...(this.history.get(name) ?? [])];
  }

  /** A problem as clients may read it: paths relative to the repository. */
  publicProblem(problem: string): string {
    return problem.split(`${this.dir}${path.sep}`).join('').split(this.dir).join('MODELS_DIR');
  }

  /** Why the last reload of `name` did not apply (until one does). */
  problemOf(name: string): string | undefined {
    return this.problems.get(name);
  }

  // ---- reloads (service/model-reloader.ts) -----------------------------------------------------

  /** The loaded version folders of `name` by stamp, and its rollout.json stamp, to tell what changed. */
  loadedStamps(name: string): { versions: Map<Model, string>; rolloutStamp: string } | undefined {
    const entry = this.entries.get(name);
    return entry && { versions: new Map(entry.stamps), rolloutStamp: entry.rolloutStamp };
  }

  /** Shows a version as LOADING (or FAILED, with why) in `models` while a reload works on it. */
  note(name: string, version: string, state: 'LOADING' | 'FAILED' | 'RETIRED' | 'DRAINING', extra: { problem?: string; model?: Model } = {}): void {
    const list = (this.history.get(name) ?? []).filter((s) => !(s.version === version && (s.state === 'LOADING' || s.state === 'FAILED') && !s.model));
    list.push({ name, version, state, share: 0, sample: 0, since: Date.now(), ...extra });
    this.history.set(name, trimHistory(list));
  }

  /** Drops the LOADING or FAILED line of a version (its folder is gone, or it now serves). */
  forget(name: string, version: string, state: 'LOADING' | 'FAILED'): void {
    const list = this.history.get(name);
    if (list) this.history.set(name, list.filter((s) => !(s.version === version && s.state === state && !s.model)));
  }

  /** Forgets what is kept about a model that never served and whose folder is gone. */
  forgetModel(name: string): void {
    if (this.entries.has(name)) return;
    this.history.delete(name);
    this.problems.delete(name);
  }

  setProblem(name: string, problem: string | undefined): void {
    if (problem === undefined) this.problems.delete(name);
    else this.problems.set(name, problem);
  }

  /**
   * Swaps in `name`'s next table (model-table.ts entryOf) once the whole repository still holds with it
   * (defaults, fallbacks, tasks); throws ModelLoadError and changes nothing otherwise. Returns the
   * versions that left the table: the caller drains and closes them (retire()).
   */
  commit(name: string, next: ModelTable, warn: (msg: string, fields: Record<string, unknown>) => void): Model[] {
    const tables = new Map(this.entries);
    tables.set(name, next);
    const defaults = checkTables(tables, this.dir, warn);
    const before = this.entries.get(name);
    this.install(name, next);
    this.setDefaults(defaults);
    if (!this.modelNames.includes(name)) this.modelNames = [...this.modelNames, name].sort();
    const kept = new Set(next.routes.versions.values());
    return before ? [...before.routes.versions.values()].filter((m) => !kept.has(m)) : [];
  }

  /** A version that left its table: DRAINING until `drained` settles, then RETIRED. */
  async retire(model: Model, drained: Promise<void>): Promise<void> {
    this.note(model.name, model.version, 'DRAINING', { model });
    await drained;
    const list = (this.history.get(model.name) ?? []).filter((s) => s.model !== model);
    list.push({ name: model.name, version: model.version, state: 'RETIRED', share: 0, sample: 0, since: Date.now() });
    this.history.set(model.name, trimHistory(list));
  }

  /** Every loaded version and every draining one, closed (shutdown). */
  async close(): Promise<void> {
    const open = [...this.loaded(), ...[...this.history.values()].flat().flatMap((s) => (s.model ? [s.model] : []))];
    this.entries.clear();
    await Promise.all(open.map((m) => m.close().catch(() => undefined)));
  }

  /** A version folder as inspect() read it (each is loaded once: the inspection is dropped), or read now. */
  private async readVersion(folder: VersionFolder, variant: Variant): Promise<FolderSpec> {
    const key = inspectedKey(folder.folder, variant);
    const inspection = this.inspected.get(key);
    this.inspected.delete(key);
    return inspection ?? readModelFolder(folder.folder, variant, folder.version);
  }

  private install(name: string, entry: ModelTable): void {
    const now = Date.now();
    for (const model of entry.routes.versions.values()) {
      const role = entry.routes.roleOf(model)!;
      if (this.roleSince.get(model)?.role !== role) this.roleSince.set(model, { role, since: now });
    }
    this.entries.set(name, entry);
  }

  private setDefaults(defaults: Map<Task, string>): void {
    this.defaults.clear();
    for (const [task, name] of defaults) this.defaults.set(task, name);
  }
}

function inspectedKey(folder: string, variant: Variant): string {
  return `${variant}:${folder}`;
}

/** Start-up load of one version folder, read as `spec`. */
async function loadVersion(name: string, folder: VersionFolder, spec: FolderSpec, options: RegistryLoadOptions): Promise<Loaded> {
  const started = performance.now();
  const model = await loadFolder(spec, { ...options, name, variant: options.variantOf(name) });
  options.log('info', 'model loaded', {
    model: name,
    task: model.task,
    version: model.version,
    file: model.file,
    provider: model.executionProvider,
    ms: Math.round(performance.now() - started),
  });
  return { model, stamp: folder.stamp };
}

/** The checks of one model's folders: its layout, each version's files, and its rollout.json against its versions. */
async function inspectModel(folders: ModelFolders, variant: Variant): Promise<FolderReport[]> {
  if (folders.problem) return [{ name: folders.name, folder: folders.dir, error: folders.problem }];
  const reports: FolderReport[] = await Promise.all(
    folders.versions.map(async (v): Promise<FolderReport> => {
      const report = { name: folders.name, version: v.version, folder: v.folder };
      try {
        return { ...report, inspection: await readModelFolder(v.folder, variant, v.version) };
      } catch (e) {
        if (e instanceof ModelLoadError) return { ...report, error: e };
        throw e;
      }
    }),
  );
  // A single folder's one version serves; version folders' rollout.json is checked against them.
  let serving: string | undefined = reports[0]?.inspection?.version;
  if (folders.layout === 'versions') {
    try {
      serving = (await rolloutOf(folders, folders.versions.map((v) => v.version!))).serving;
    } catch (e) {
      if (!(e instanceof ModelLoadError)) throw e;
      serving = undefined;
      reports.push({ name: folders.name, folder: folders.dir, error: e });
    }
  }
  for (const r of reports) if (r.inspection) r.serving = r.inspection.version === serving;
  return reports;
}

function trimHistory(list: VersionStatus[]): VersionStatus[] {
  // Draining and loading ones always stay; of the rest, the newest HISTORY.
  const live = list.filter((s) => s.state === 'DRAINING' || s.state === 'LOADING');
  const past = list.filter((s) => s.state !== 'DRAINING' && s.state !== 'LOADING').slice(-HISTORY);
  return [...past, ...live].sort((a, b) => a.since - b.since);
}

