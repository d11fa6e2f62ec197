// How far a model's shadow version agrees with its serving version, beside the drift gauges: the
// last DRIFT_WINDOW compared texts per model (a new shadow version starts a new window), read when
// Prometheus scrapes, and a counter of every sampled text by outcome. Labels: model names and
// versions from the repository, never anything a client chose.
import { Counter, type Registry } from 'prom-client';
import type { ShadowEvent } from '../resilience/shadow-traffic.js';
import { nearestRank, RingSlots } from './drift/window.js';
import { polledGauge } from './polled-gauge.js';

class ComparisonWindow extends RingSlots {
  /** 1: same top label, 0: different, -1: not a classification. */
  readonly agrees: Int8Array;
  /** Largest score difference; NaN when not a classification. */
  readonly scoreDiff: Float64Array;
  /** Cosine of the vectors; NaN when not an embedding (or not comparable). */
  readonly cosine: Float64Array;

  constructor(
    readonly version: string,
    capacity: number,
  ) {
    super(capacity);
    this.agrees = new Int8Array(capacity);
    this.scoreDiff = new Float64Array(capacity);
    this.cosine = new Float64Array(capacity);
  }

  record(event: ShadowEvent): void {
    const slot = this.claim();
    this.agrees[slot] = event.labelAgrees === undefined ? -1 : event.labelAgrees ? 1 : 0;
    this.scoreDiff[slot] = event.scoreDiff ?? NaN;
    this.cosine[slot] = event.cosine ?? NaN;
  }

  /** The values of `of` in the window that are numbers, sorted. */
  sorted(of: Float64Array): Float64Array {
    const out = of.slice(0, this.size).filter((v) => !Number.isNaN(v));
    return out.sort();
  }
}

const mean = (values: Float64Array) => values.reduce((a, b) => a + b, 0) / values.length;

export class ShadowAgreement {
  private readonly windows = new Map<string, ComparisonWindow>();
  private readonly texts: Counter<'model' | 'version' | 'result'>;

  constructor(
    registry: Registry,
    private readonly capacity: number,
  ) {
    this.texts = new Counter({
      name: 'nlp_shadow_texts_total',
      help: 'Texts sampled for a shadow version, by result: compared, dropped_full (its shadow queue was full), dropped_busy (the serving version had a batch waiting), failed',
      labelNames: ['model', 'version', 'result'],
      registers: [registry],
    });
    const windows = () => this.windows;
    polledGauge(registry, 'nlp_shadow_window_size', 'Texts compared with the shadow version in the agreement window', ['model', 'version'], (set) => {
      for (const [model, w] of windows()) set({ model, version: w.version }, w.size);
    });
    polledGauge(
      registry,
      'nlp_shadow_label_agreement',
      'Share of the compared texts whose top label the shadow version and the serving version agree on (classification)',
      ['model', 'version'],
      (set) => {
        for (const [model, w] of windows()) {
          let agree = 0;
          let n = 0;
          for (let i = 0; i < w.size; i++) {
            if (w.agrees[i]! < 0) continue;
            n++;
            agree += w.agrees[i]!;
          }
          if (n > 0) set({ model, version: w.version }, agree / n);
        }
      },
    );
    polledGauge(
      registry,
      'nlp_shadow_score_difference',
      "Largest difference of one label's probability between the shadow and the serving answer, over the window (stat: mean, p95, max)",
      ['model', 'version', 'stat'],
      (set) => {
        for (const [model, w] of windows()) {
          const d = w.sorted(w.scoreDiff);
          if (d.length === 0) continue;
          set({ model, version: w.version, stat: 'mean' }, mean(d));
          set({ model, version: w.version, stat: 'p95' }, nearestRank(d, 0.95));
          set({ model, version: w.version, stat: 'max' }, d[d.length - 1]!);
        }
      },
    );
    polledGauge(
      registry,
      'nlp_shadow_embedding_cosine',
      'Cosine similarity of the shadow and the serving embedding of the same text, over the window (stat: mean, p05, min)',
      ['model', 'version', 'stat'],
      (set) => {
        for (const [model, w] of windows()) {
          const c = w.sorted(w.cosine);
          if (c.length === 0) continue;
          set({ model, version: w.version, stat: 'mean' }, mean(c));
          set({ model, version: w.version, stat: 'p05' }, nearestRank(c, 0.05));
          set({ model, version: w.version, stat: 'min' }, c[0]!);
        }
      },
    );
  }

  observe(event: ShadowEvent): void {
    const result = event.result === 'dropped' ? `dropped_${event.reason === 'busy' ? 'busy' : 'full'}` : event.result;
    this.texts.inc({ model: event.model, version: event.version, result });
    if (event.result !== 'compared') return;
    let window = this.windows.get(event.model);
    if (window?.version !== event.version) {
      window = new ComparisonWindow(event.version, this.capacity);
      this.windows.set(event.model, window);
    }
    window.record(event);
  }

  /** Stops showing the window of a model that no longer has a shadow version. */
  forget(model: string): void {
    this.windows.delete(model);
  }
}
