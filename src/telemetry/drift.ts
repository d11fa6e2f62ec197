// Model-drift gauges: each model keeps a rolling window of its last answers (never the texts), and the
// gauges compare that window with the baseline of model.json when Prometheus scrapes. Labels are
// model names and label names from model.json only, so cardinality stays bounded. A window follows
// the model's serving version (the baseline is that version's): answers of canary, pinned or shadow
// versions are left out, and a new serving version starts a new window.
import type { Registry } from 'prom-client';
import type { AnswerEvent } from '../resilience/inference-path.js';
import type { Baseline } from '../inference/model-spec.js';
import { collapseLengthBins, lengthBin, type LengthBins } from './drift/length-bins.js';
import { AnswerWindow, nearestRank } from './drift/window.js';
import { polledGauge, type SetValue } from './polled-gauge.js';

export type { Baseline };

export interface DriftModel {
  name: string;
  /** The version whose answers the window takes. */
  version: string;
  task: 'classification' | 'embedding';
  labels?: readonly string[];
  maxTokens: number;
  baseline?: Baseline;
}

export interface DriftOptions {
  /** Answers kept per model. */
  window: number;
}

const PSI_EPSILON = 1e-4;

/**
 * Population stability index of two distributions given as shares over the same bins:
 * sum of (live - base) * ln(live / base), an empty bin counting as `epsilon` so the log stays finite.
 */
export function psi(live: readonly number[], base: readonly number[], epsilon = PSI_EPSILON): number {
  if (live.length !== base.length) throw new RangeError(`psi: ${live.length} live bins but ${base.length} baseline bins`);
  let sum = 0;
  for (let i = 0; i < live.length; i++) {
    const l = Math.max(live[i]!, epsilon);
    const b = Math.max(base[i]!, epsilon);
    sum += (l - b) * Math.log(l / b);
  }
  return sum;
}

/** What the gauges report for one model; undefined parts have no data in the window. */
interface WindowStats {
  lengthShare?: number[];
  unknownRatio?: number;
  confidence?: number;
  labelShare?: number[];
  norm?: { mean: number; p05: number; p95: number };
}

class ModelDrift {
  readonly window: AnswerWindow;
  readonly labels: readonly string[];
  private readonly labelIndex: Map<string, number>;
  /** Collapsed length bins; only with a token-length baseline, the one use of the lengths. */
  readonly bins: LengthBins | undefined;
  /** Baseline label shares in `labels` order, summing to 1. */
  readonly baseLabels: number[] | undefined;
  private stats: WindowStats | undefined;
  private statsSeq = -1;

  constructor(
    readonly spec: DriftModel,
    capacity: number,
  ) {
    this.window = new AnswerWindow(capacity);
    const baseline = spec.baseline;
    this.labels = spec.labels ?? (spec.task === 'classification' ? Object.keys(baseline?.labels ?? {}) : []);
    this.labelIndex = new Map(this.labels.map((l, i) => [l, i]));
    this.bins = baseline?.tokenLength ? collapseLengthBins(baseline.tokenLength, spec.maxTokens) : undefined;
    if (baseline?.labels && this.labels.length > 1) {
      const shares = this.labels.map((l) => Math.max(0, baseline.labels![l] ?? 0));
      const total = shares.reduce((a, b) => a + b, 0);
      if (total > 0) this.baseLabels = shares.map((s) => s / total);
    }
  }

  observe(event: AnswerEvent): void {
    const w = this.window;
    const slot = w.claim();
    // fullTokens is exact unless truncated, and a truncated text lands in the open bin anyway.
    w.lengthBin[slot] = this.bins ? lengthBin(this.bins, event.fullTokens ?? event.tokens, event.truncated) : 0;
    w.unknownRatio[slot] = event.unknownTokens !== undefined && event.tokens > 0 ? event.unknownTokens / event.tokens : NaN;
    const top = event.scores?.[0];
    w.topLabel[slot] = top ? (this.labelIndex.get(top.label) ?? -1) : -1;
    w.confidence[slot] = top ? top.score : NaN;
    w.norm[slot] = event.vectorNorm ?? NaN;
  }

  /** Statistics of the window, recomputed only when it changed since the last scrape. */
  current(): WindowStats {
    if (this.stats && this.statsSeq === this.window.seq) return this.stats;
    this.stats = this.compute();
    this.statsSeq = this.window.seq;
    return this.stats;
  }

  private compute(): WindowStats {
    const w = this.window;
    const n = w.size;
    const stats: WindowStats = {};
    if (n === 0) return stats;

    if (this.bins) {
      const counts = new Array<number>(this.bins.lower.length).fill(0);
      for (let i = 0; i < n; i++) counts[w.lengthBin[i]!]++;
      stats.lengthShare = counts.map((c) => c / n);
    }

    let unknownSum = 0;
    let unknownCount = 0;
    let confidenceSum = 0;
    let confidenceCount = 0;
    let labelled = 0;
    const labelCounts = new Array<number>(this.labels.length).fill(0);
    let normCount = 0;
    for (let i = 0; i < n; i++) {
      const u = w.unknownRatio[i]!;
      if (!Number.isNaN(u)) {
        unknownSum += u;
        unknownCount++;
      }
      const c = w.confidence[i]!;
      if (!Number.isNaN(c)) {
        confidenceSum += c;
        confidenceCount++;
      }
      const label = w.topLabel[i]!;
      if (label >= 0) {
        labelCounts[label]++;
        labelled++;
      }
      if (!Number.isNaN(w.norm[i]!)) normCount++;
    }
    if (unknownCount > 0) stats.unknownRatio = unknownSum / unknownCount;
    if (confidenceCount > 0) stats.confidence = confidenceSum / confidenceCount;
    if (labelled > 0) stats.labelShare = labelCounts.map((c) => c / labelled);

    if (normCount > 0) {
      const norms = new Float64Array(normCount);
      let k = 0;
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const v = w.norm[i]!;
        if (Number.isNaN(v)) continue;
        norms[k++] = v;
        sum += v;
      }
      norms.sort();
      stats.norm = { mean: sum / normCount, p05: nearestRank(norms, 0.05), p95: nearestRank(norms, 0.95) };
    }
    return stats;
  }
}

export class DriftMonitor {
  private readonly models = new Map<string, ModelDrift>();

  constructor(
    registry: Registry,
    models: readonly DriftModel[],
    private readonly options: DriftOptions,
  ) {
    if (!Number.isInteger(options.window) || options.window < 1) {
      throw new RangeError(`drift window must be a positive integer, got ${options.window}`);
    }
    this.follow(models);
    // Read at every scrape: the models followed then.
    const all = { [Symbol.iterator]: () => this.models.values() };

    const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: (set: SetValue<L>) => void) =>
      polledGauge(registry, name, help, labelNames, fill);

    gauge('nlp_drift_window_size', 'Answers in the drift window of each model', ['model'], (set) => {
      for (const m of all) if (m.window.size > 0) set({ model: m.spec.name }, m.window.size);
    });
    gauge('nlp_confidence_score', 'Mean top-label probability over the drift window', ['model'], (set) => {
      for (const m of all) {
        const c = m.current().confidence;
        if (c !== undefined) set({ model: m.spec.name }, c);
      }
    });
    gauge('nlp_prediction_share', 'Share of each predicted (top) label over the drift window', ['model', 'label'], (set) => {
      for (const m of all) {
        const shares = m.current().labelShare;
        shares?.forEach((s, i) => set({ model: m.spec.name, label: m.labels[i]! }, s));
      }
    });
    gauge(
      'nlp_drift_psi',
      'Population stability index of the drift window against the model.json baseline (feature: label, length)',
      ['model', 'feature'],
      (set) => {
        for (const m of all) {
          const s = m.current();
          if (m.baseLabels && s.labelShare) set({ model: m.spec.name, feature: 'label' }, psi(s.labelShare, m.baseLabels));
          if (m.bins && s.lengthShare) set({ model: m.spec.name, feature: 'length' }, psi(s.lengthShare, m.bins.base));
        }
      },
    );
    gauge('nlp_unknown_token_ratio', 'Mean share of unknown tokens per text over the drift window (cache hits excluded)', ['model'], (set) => {
      for (const m of all) {
        const u = m.current().unknownRatio;
        if (u !== undefined) set({ model: m.spec.name }, u);
      }
    });
    gauge('nlp_embedding_norm', 'Embedding norm before normalisation over the drift window (stat: mean, p05, p95)', ['model', 'stat'], (set) => {
      for (const m of all) {
        const norm = m.current().norm;
        if (!norm) continue;
        set({ model: m.spec.name, stat: 'mean' }, norm.mean);
        set({ model: m.spec.name, stat: 'p05' }, norm.p05);
        set({ model: m.spec.name, stat: 'p95' }, norm.p95);
      }
    });
    gauge('nlp_drift_norm_ratio', 'Mean embedding norm of the drift window / baseline meanNorm', ['model'], (set) => {
      for (const m of all) {
        const base = m.spec.baseline?.meanNorm;
        const norm = m.current().norm;
        if (norm && base !== undefined && base > 0) set({ model: m.spec.name }, norm.mean / base);
      }
    });
    // Constants, so alert rules can compare with each model's own baseline instead of hard-coding it.
    gauge(
      'nlp_drift_baseline',
      'model.json baseline values (stat: mean_confidence, unknown_token_ratio, mean_norm)',
      ['model', 'stat'],
      (set) => {
        for (const m of all) {
          const b = m.spec.baseline;
          if (b?.meanConfidence !== undefined) set({ model: m.spec.name, stat: 'mean_confidence' }, b.meanConfidence);
          if (b?.unknownTokenRatio !== undefined) set({ model: m.spec.name, stat: 'unknown_token_ratio' }, b.unknownTokenRatio);
          if (b?.meanNorm !== undefined) set({ model: m.spec.name, stat: 'mean_norm' }, b.meanNorm);
        }
      },
    );
  }

  /**
   * Follows these models (their serving versions) from now on: a model whose version changed starts
   * a new window; models no longer given are dropped.
   */
  follow(models: readonly DriftModel[]): void {
    const names = new Set(models.map((m) => m.name));
    for (const name of this.models.keys()) if (!names.has(name)) this.models.delete(name);
    for (const m of models) {
      const current = this.models.get(m.name);
      if (current?.spec.version !== m.version) this.models.set(m.name, new ModelDrift(m, this.options.window));
    }
  }

  /** Records one answered text; answers of other models and versions are ignored. */
  observe(event: AnswerEvent): void {
    const m = this.models.get(event.model);
    if (m && m.spec.version === event.version) m.observe(event);
  }
}
