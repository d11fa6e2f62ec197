// What makes model changes visible in Prometheus: every version with its state (nlp_model_info), the
// outcome of every model reload, and the texts each version answered (a canary's share shows here).
// Labels are names and versions from the repository and fixed words, never anything a client chose.
import { Counter, type Registry } from 'prom-client';
import type { VersionStatus } from '../inference/model-registry.js';
import { polledGauge } from './polled-gauge.js';

export class ModelVersionMetrics {
  private readonly reloads: Counter<'model' | 'result'>;
  private readonly answered: Counter<'model' | 'version'>;

  constructor(
    registry: Registry,
    versions: () => readonly VersionStatus[],
    /** Models whose folder is not served as it is on disk (a reload failed, the folder was removed). */
    problems: () => readonly string[],
  ) {
    const registers = [registry];
    polledGauge(
      registry,
      'nlp_model_problem',
      "1 while a model does not serve its folder as it is on disk (a reload failed or the folder was removed; the health query's models.problem says why); absent otherwise",
      ['model'],
      (set) => {
        for (const model of problems()) set({ model }, 1);
      },
    );
    polledGauge(
      registry,
      'nlp_model_info',
      'One series per model version, value 1: its state (SERVING, CANARY, SHADOW, STANDBY, LOADING, FAILED, DRAINING, RETIRED), task and weights file',
      ['model', 'version', 'state', 'task', 'weights'],
      (set) => {
        for (const v of versions()) set({ model: v.name, version: v.version, state: v.state, task: v.model?.task ?? '', weights: v.model?.file ?? '' }, 1);
      },
    );
    polledGauge(registry, 'nlp_model_traffic_share', 'Share of the texts of plain-name requests each version answers (the rollout: serving and canary)', ['model', 'version'], (set) => {
      for (const v of versions()) if (v.share > 0) set({ model: v.name, version: v.version }, v.share);
    });
    this.reloads = new Counter({
      name: 'nlp_model_reload_total',
      help: 'Model reloads, by model and result: applied (its changed folders serve now) or failed (a folder could not be loaded or its rollout does not hold; see the log and the health query)',
      labelNames: ['model', 'result'],
      registers,
    });
    this.answered = new Counter({
      name: 'nlp_version_texts_total',
      help: 'Texts answered for clients, by the model version that answered (cached answers included)',
      labelNames: ['model', 'version'],
      registers,
    });
  }

  readonly observeReload = (model: string, result: 'applied' | 'failed'): void => {
    this.reloads.inc({ model, result });
  };

  readonly observeAnswer = (model: string, version: string): void => {
    this.answered.inc({ model, version });
  };
}
