// Hot reload: reads the model repository again and, model by model, loads what changed beside what
// serves, then swaps it in. A new or changed version folder is loaded, warmed up and calibrated
// (its own lane in the inference path) while the old one keeps serving; the model's new table
// (versions and rollout.json) is checked and swapped in at once; versions that left it take no new
// texts, finish the ones they have (DRAINING), and are closed only then (RETIRED). Nothing is dropped:
// a text is answered by the version it was handed to. A model whose new folders fail to load, or
// whose rollout.json or table does not hold, keeps serving exactly as before, and says why (log,
// metric, health, `models`). Passes run one at a time; triggers during a pass run one more pass.
import { ModelLoadError } from '../errors/errors.js';
import type { Model } from '../inference/model.js';
import { readModelFolder, type FolderSpec } from '../inference/model-folder/read-model-folder.js';
import type { Variant } from '../inference/model-loader.js';
import type { ModelRegistry, VersionState } from '../inference/model-registry.js';
import { entryOf } from '../inference/model-table.js';
import { changedFiles, readLayout, ROLLOUT_FILE, type ModelFolders, type VersionFolder } from '../inference/repository/layout.js';
import { rolloutOf, type Rollout } from '../inference/rollout/rollout-file.js';
import type { InferencePath } from '../resilience/inference-path.js';

/** What a model's reload came to: its new table swapped in, or left as it was. */
export type ReloadResult = 'applied' | 'failed';

/** A version's state changed (a rollout event). */
export interface StateChange {
  model: string;
  version: string;
  from: VersionState | 'ABSENT';
  to: VersionState;
  share: number;
  sample: number;
}

export interface ReloadHooks {
  log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>): void;
  /** One model's reload ended. */
  onResult(model: string, result: ReloadResult, problem?: string): void;
  /** A version's state changed. */
  onStateChange(change: StateChange): void;
  /** A pass is starting: returns what to call when it ends (e.g. a trace span). */
  onPass?(trigger: string): { end(report: ReloadReport): void };
}

export interface ReloaderDeps {
  registry: ModelRegistry;
  path: InferencePath;
  /** Resolves once every text the service handed to `model` is answered. */
  drained(model: Model): Promise<void>;
  /** Loads and warms up one version folder of `name`, as read (readModelFolder), as start-up does. */
  load(name: string, spec: FolderSpec): Promise<Model>;
  variantOf(name: string): Variant;
  hooks: ReloadHooks;
}

export interface ReloadReport {
  trigger: string;
  /** Models whose new table was swapped in. */
  applied: string[];
  /** Models left as they were, and why. */
  failed: { model: string; problem: string }[];
  /** `name@version` of the versions loaded. */
  loaded: string[];
  /** `name@version` of the versions taken out of service (draining now). */
  retired: string[];
  ms: number;
}

export class ModelReloader {
  private current: Promise<ReloadReport> | undefined;
  private queued: Promise<ReloadReport> | undefined;
  private closed = false;
  private readonly draining = new Set<Promise<void>>();
  /** Folders that failed to load, by stamp: not tried again until their files change. */
  private readonly failedStamps = new Map<string, { stamp: string; error: ModelLoadError }>();
  /** Models whose folder is gone (still serving until restart), so the warning is given once. */
  private readonly removed = new Map<string, string>();
  /** Per model, the stamps of the folders as they were when its reload last failed: not tried again as they are. */
  private readonly failedAs = new Map<string, string>();

  constructor(private readonly deps: ReloaderDeps) {}

  /** Reads the repository again and applies what changed; a pass already queued takes this trigger too. */
  reload(trigger: string): Promise<ReloadReport> {
    if (this.queued) return this.queued;
    const previous = this.current ?? Promise.resolve(undefined);
    const next: Promise<ReloadReport> = previous
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        this.current = next;
        return this.pass(trigger);
      })
      .finally(() => {
        if (this.current === next) this.current = undefined;
      });
    this.queued = next;
    return next;
  }

  /** Resolves once no pass runs and every retired version is closed. */
  async idle(): Promise<void> {
    while (this.current || this.queued || this.draining.size > 0) {
      await Promise.allSettled([this.current, this.queued, ...this.draining]);
    }
  }

  /**
   * Stops reloading (shutdown): the pass in progress ends after the model it is on; resolves once it
   * has, and once every draining version is closed (their calls in progress returned).
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.current, this.queued]);
    await Promise.allSettled([...this.draining]);
  }

  private async pass(trigger: string): Promise<ReloadReport> {
    const started = performance.now();
    const report: ReloadReport = { trigger, applied: [], failed: [], loaded: [], retired: [], ms: 0 };
    const scope = this.deps.hooks.onPass?.(trigger);
    const { registry, hooks } = this.deps;
    try {
      if (this.closed) return report;
      let layout;
      try {
        layout = await readLayout(registry.dir);
      } catch (e) {
        const problem = (e as Error).message;
        hooks.log('error', 'model reload failed', { error: problem });
        report.failed.push({ model: '(repository)', problem });
        hooks.onResult('(repository)', 'failed', problem);
        return report;
      }
      const present = new Set(layout.models.map((m) => m.name));
      for (const folders of layout.models) {
        if (this.closed) break;
        try {
          await this.reloadModel(folders, report);
        } catch (e) {
          // Not a problem of the folder (those are ModelLoadErrors, handled there): still only this model's reload fails.
          const problem = `reload of ${folders.name} failed unexpectedly: ${(e as Error).message}`;
          report.failed.push({ model: folders.name, problem });
          hooks.log('error', 'model reload failed; its serving versions are unchanged', { model: folders.name, err: e });
          hooks.onResult(folders.name, 'failed', problem);
        }
      }
      for (const name of registry.names) {
        if (present.has(name) || this.removed.has(name)) continue;
        const problem = `folder ${name}/ was removed; its versions keep serving until the gateway restarts`;
        this.removed.set(name, problem);
        registry.setProblem(name, problem);
        hooks.log('warn', 'model folder removed', { model: name, problem });
      }
      // A new folder that never served and is gone again: nothing to show for it any more.
      for (const name of registry.namesWithProblems()) {
        if (!present.has(name) && !registry.names.includes(name)) {
          registry.forgetModel(name);
          this.failedAs.delete(name);
        }
      }
      for (const [name, problem] of this.removed) {
        if (!present.has(name)) continue;
        this.removed.delete(name);
        if (registry.problemOf(name) === problem) registry.setProblem(name, undefined);
      }
      return report;
    } finally {
      report.ms = Math.round(performance.now() - started);
      if (report.applied.length > 0 || report.failed.length > 0 || trigger === 'signal') {
        hooks.log(report.failed.length > 0 ? 'warn' : 'info', 'models reloaded', { ...report });
      }
      scope?.end(report);
    }
  }

  /**
   * One model: what changed is loaded beside what serves, then its next table swapped in, or nothing
   * changes. A version folder that fails to load is left out (FAILED) as long as the rollout does not
   * need it: rollout.json naming it, or it being the highest version without rollout.json, fails the
   * whole model, which then keeps serving as it did.
   */
  private async reloadModel(folders: ModelFolders, report: ReloadReport): Promise<void> {
    const { registry, path, hooks } = this.deps;
    const name = folders.name;
    const signature = [folders.rolloutStamp, ...folders.versions.map((v) => `${v.folder}\n${v.stamp}`)].join('\n');
    const fail = (problem: string) => {
      this.failedAs.set(name, signature);
      registry.setProblem(name, problem);
      report.failed.push({ model: name, problem });
      hooks.log('error', 'model reload failed; its serving versions are unchanged', { model: name, error: problem });
      hooks.onResult(name, 'failed', problem);
    };
    if (folders.problem) {
      if (registry.problemOf(name) !== folders.problem.message) fail(folders.problem.message);
      return;
    }
    const loaded = registry.loadedStamps(name);
    const kept: { model: Model; stamp: string }[] = [];
    const toLoad: VersionFolder[] = [];
    for (const folder of folders.versions) {
      const same = [...(loaded?.versions ?? [])].find(([m, stamp]) => m.folder === folder.folder && stamp === folder.stamp);
      if (same) kept.push({ model: same[0], stamp: same[1] });
      else toLoad.push(folder);
    }
    const knownBroken = (f: VersionFolder) => this.failedStamps.get(f.folder)?.stamp === f.stamp;
    const sameTable = loaded !== undefined && kept.length === loaded.versions.size && loaded.rolloutStamp === folders.rolloutStamp;
    // Nothing new to try: the same versions, and folders that failed as they are now; or the very
    // folders with which the model's last reload failed.
    if (sameTable && toLoad.every(knownBroken)) return;
    if (this.failedAs.get(name) === signature) return;

    const before = new Map(registry.versionsOf(name).map((s) => [s.version, s.state]));
    const fresh: { model: Model; stamp: string }[] = [];
    const broken = new Map<string, ModelLoadError>();
    const discard = () => Promise.all(fresh.map(({ model }) => path.retire(model).then(() => model.close()).catch(() => undefined)));
    for (const folder of toLoad) {
      if (this.closed) return void (await discard());
      let version = folder.version ?? 'unknown';
      try {
        const failed = this.failedStamps.get(folder.folder);
        if (failed?.stamp === folder.stamp) throw failed.error;
        const spec = await this.inspect(name, folder, loaded?.versions);
        version = spec.version;
        registry.note(name, version, 'LOADING');
        const started = performance.now();
        const model = await this.deps.load(name, spec);
        try {
          await path.add(model);
        } catch (e) {
          await model.close().catch(() => undefined);
          throw new ModelLoadError(folder.folder, `calibration failed: ${(e as Error).message}`);
        }
        fresh.push({ model, stamp: folder.stamp });
        registry.forget(name, version, 'LOADING');
        registry.forget(name, version, 'FAILED');
        this.failedStamps.delete(folder.folder);
        report.loaded.push(model.ref);
        hooks.log('info', 'model version loaded', { model: name, version: model.version, file: model.file, ms: Math.round(performance.now() - started) });
      } catch (e) {
        // Whatever stopped it (the folder, or onnxruntime refusing the graph), this version is broken as it is.
        const error = e instanceof ModelLoadError ? e : new ModelLoadError(folder.folder, (e as Error).message);
        registry.forget(name, version, 'LOADING');
        if (!knownBroken(folder)) registry.note(name, version, 'FAILED', { problem: error.message });
        this.failedStamps.set(folder.folder, { stamp: folder.stamp, error });
        broken.set(version, error);
      }
    }
    try {
      const versions = [...kept, ...fresh];
      const rollout = await planRollout(folders, versions.map((v) => v.model.version), broken);
      const retired = registry.commit(name, entryOf(folders, versions, rollout), (msg, fields) => hooks.log('warn', msg, fields));
      const problem = broken.size > 0 ? [...broken.values()].map((e) => e.message).join('; ') : undefined;
      registry.setProblem(name, problem);
      this.failedAs.delete(name);
      report.applied.push(name);
      hooks.onResult(name, 'applied');
      if (problem) {
        report.failed.push({ model: name, problem });
        hooks.onResult(name, 'failed', problem);
        hooks.log('error', 'model version failed to load; left out of the rollout', { model: name, error: problem });
      }
      hooks.log('info', 'model reload applied', { model: name, serving: rollout.serving, canary: rollout.canary, shadow: rollout.shadow, loaded: fresh.map((v) => v.model.version) });
      for (const model of retired) this.retire(model, report);
      this.reportChanges(name, before);
    } catch (e) {
      await discard();
      if (!(e instanceof ModelLoadError)) throw e;
      fail(e.message);
    }
  }

  /**
   * A folder read as it will load (its version: its folder name, model.json's, or its weights' hash);
   * refuses a changed folder that keeps its version.
   */
  private async inspect(name: string, folder: VersionFolder, loaded: Map<Model, string> | undefined): Promise<FolderSpec> {
    const spec = await readModelFolder(folder.folder, this.deps.variantOf(name), folder.version);
    for (const [model, stamp] of loaded ?? []) {
      if (model.folder !== folder.folder || model.version !== spec.version) continue;
      // The same version from changed files: fine for what does not change answers (fallback,
      // default, baseline in model.json); answers are cached per version, so anything else needs a new one.
      const changed = changedFiles(stamp, folder.stamp).filter((f) => f !== 'model.json');
      const fields = (['task', 'labels', 'maxTokens'] as const).filter((k) => JSON.stringify(specField(model, k)) !== JSON.stringify(spec[k]));
      if (spec.weights !== model.file) changed.push(spec.weights);
      if (changed.length > 0 || fields.length > 0) {
        const what = [...changed, ...fields.map((f) => `${f} (model.json)`)].join(', ');
        const fix =
          folder.version !== undefined
            ? 'a version folder is immutable: put the new files in a new version folder'
            : spec.readFrom['version']?.from === 'model.json'
              ? 'give it a new "version" in model.json'
              : 'set a "version" in model.json (the weights\' hash names it, and the weights did not change)';
        throw new ModelLoadError(folder.folder, `${what} changed but the version is still ${spec.version}, and answers are cached per version: ${fix}`);
      }
    }
    return spec;
  }

  private retire(model: Model, report: ReloadReport): void {
    const { registry, path, hooks } = this.deps;
    report.retired.push(model.ref);
    const started = performance.now();
    hooks.log('info', 'model version draining', { model: model.name, version: model.version, pending: path.pending(model) });
    const drained = this.deps
      .drained(model)
      .then(() => path.retire(model))
      .then(() => model.close())
      .catch((e: unknown) => hooks.log('error', 'closing a retired model version failed', { model: model.name, version: model.version, error: (e as Error).message }));
    const done = registry.retire(model, drained).then(() => {
      hooks.log('info', 'model version retired', { model: model.name, version: model.version, drainMs: Math.round(performance.now() - started) });
      hooks.onStateChange({ model: model.name, version: model.version, from: 'DRAINING', to: 'RETIRED', share: 0, sample: 0 });
    });
    this.draining.add(done);
    void done.finally(() => this.draining.delete(done));
  }

  /** Rollout events: every loaded or draining version whose state differs from before the reload. */
  private reportChanges(name: string, before: Map<string, VersionState>): void {
    for (const s of this.deps.registry.versionsOf(name)) {
      if (s.state === 'LOADING' || s.state === 'FAILED' || s.state === 'RETIRED') continue;
      const from = before.get(s.version) ?? 'ABSENT';
      if (from !== s.state) this.deps.hooks.onStateChange({ model: name, version: s.version, from, to: s.state, share: s.share, sample: s.sample });
    }
  }
}

function specField(model: Model, key: 'task' | 'labels' | 'maxTokens'): unknown {
  return (model.spec as Record<string, unknown>)[key];
}

/**
 * The model's rollout after the reload, from rollout.json (or the single folder's one version) over
 * every version folder, broken ones included, so that a broken folder never silently changes which
 * version serves: the rollout may not need a version that failed to load.
 */
async function planRollout(folders: ModelFolders, loaded: readonly string[], broken: ReadonlyMap<string, ModelLoadError>): Promise<Rollout> {
  if (folders.layout === 'single') {
    const [error] = broken.values();
    if (error !== undefined || loaded.length !== 1) throw error ?? new ModelLoadError(folders.dir, 'no version loaded');
  }
  const all = [...loaded, ...[...broken.keys()].filter((v) => !loaded.includes(v))];
  const rollout = await rolloutOf(folders, all);
  const needed: [string, string | undefined][] = [
    ['serving', rollout.serving],
    ['canary', rollout.canary?.version],
    ['shadow', rollout.shadow?.version],
  ];
  for (const [role, version] of needed) {
    const problem = version !== undefined ? broken.get(version)?.message : undefined;
    if (problem !== undefined) {
      const why = folders.rolloutFile ? `${ROLLOUT_FILE} makes it the ${role} version` : 'it is the highest version and there is no rollout.json';
      throw new ModelLoadError(folders.dir, `version ${version} cannot load and ${why}: ${problem}`);
    }
  }
  return rollout;
}
