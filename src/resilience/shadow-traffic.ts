// Shadow traffic: a sample of the texts a model's serving version answers is computed again by its
// shadow version (rollout.json "shadow"), after the client has its answer, and the two answers are
// compared (same top label, largest score difference, cosine of the vectors). The client never
// waits for it and never sees it: it starts after the serving answer settles, runs as its own
// fair-share client ("shadow") on the shadow version's own queue, and is dropped, not queued, when
// that version already has SHADOW_MAX_QUEUE shadow texts pending or the serving version has a full
// batch of texts waiting (the machine is busy with what clients wait for). A shadow failure is
// counted, never raised.
import type { Model } from '../inference/model.js';
import type { CachedResult } from './cache/codec.js';
import { InFlight } from './in-flight.js';
import type { PathAnswer, TextRequest } from './inference-path.js';

/** The fair-share identity of shadow work. */
export const SHADOW_CLIENT = 'shadow';

export interface ShadowOptions {
  /** Most shadow texts waiting or computing per shadow version; more are dropped. */
  maxPending: number;
}

/** One sampled text: compared, or why not. Scores and vectors only, never the text. */
export interface ShadowEvent {
  /** The model's name. */
  model: string;
  /** The shadow version. */
  version: string;
  /** The serving version it was compared with. */
  servingVersion: string;
  result: 'compared' | 'dropped' | 'failed';
  /** dropped: the shadow queue was full, or the serving version was busy. */
  reason?: 'queue' | 'busy';
  /** Classification: the top labels are the same. */
  labelAgrees?: boolean;
  /** Classification: the largest difference of one label's probability (a label one lacks counts 0 there). */
  scoreDiff?: number;
  /** Embedding: cosine of the two raw vectors (absent when their dimensions differ or one is zero). */
  cosine?: number;
}

export interface ShadowHooks {
  /** Where the shadow version of `serving` is, and how much of its traffic to sample. */
  target(serving: Model): { model: Model; sample: number } | undefined;
  /** Answers one text with `model` alone (no fallback, not reported as a client's answer). */
  run(model: Model, request: TextRequest): Promise<PathAnswer>;
  /** True when the serving version has clients' texts piling up: shadow work then stands aside. */
  busy(serving: Model): boolean;
  onShadow?: (event: ShadowEvent) => void;
}

export class ShadowTraffic {
  /** Shadow texts waiting or computing, per shadow version. */
  private readonly pending = new InFlight<Model>();

  constructor(
    private readonly options: ShadowOptions,
    private readonly hooks: ShadowHooks,
    private readonly random: () => number = Math.random,
  ) {}

  /** Shadow texts pending for `shadow`. */
  pendingFor(shadow: Model): number {
    return this.pending.count(shadow);
  }

  /**
   * Called with the texts `serving` was asked for and their answers (as the client gets them): a
   * random sample of them is run again by the shadow version once each answer is ready. Random, not
   * by text: the comparison is a statistic of the traffic, repeats included.
   */
  follow(serving: Model, requests: readonly TextRequest[], answers: readonly Promise<PathAnswer>[]): void {
    const target = this.hooks.target(serving);
    if (!target) return;
    requests.forEach((request, i) => {
      if (this.random() >= target.sample) return;
      answers[i]!.then(
        (answer) => {
          // Only what the serving version itself answered is worth comparing.
          if (answer.fallback || answer.model !== serving) return;
          setImmediate(() => this.shadow(serving, target.model, request, answer.result));
        },
        () => undefined,
      );
    });
  }

  private shadow(serving: Model, shadow: Model, request: TextRequest, served: CachedResult): void {
    // The rollout may have changed since the answer: a version no longer shadowing is not asked.
    if (this.hooks.target(serving)?.model !== shadow) return;
    const event = { model: serving.name, version: shadow.version, servingVersion: serving.version };
    if (this.pendingFor(shadow) >= this.options.maxPending) return this.hooks.onShadow?.({ ...event, result: 'dropped', reason: 'queue' });
    if (this.hooks.busy(serving)) return this.hooks.onShadow?.({ ...event, result: 'dropped', reason: 'busy' });
    this.pending.enter(shadow);
    this.hooks
      .run(shadow, { text: request.text, where: request.where, truncate: true, client: SHADOW_CLIENT, tag: request.tag })
      .then(
        (answer) => this.hooks.onShadow?.({ ...event, result: 'compared', ...compare(served, answer.result) }),
        () => this.hooks.onShadow?.({ ...event, result: 'failed' }),
      )
      .finally(() => this.pending.leave(shadow));
  }
}

/** How far the shadow's answer is from the serving one. */
export function compare(served: CachedResult, shadow: CachedResult): Pick<ShadowEvent, 'labelAgrees' | 'scoreDiff' | 'cosine'> {
  if (served.kind === 'classification' && shadow.kind === 'classification') {
    const a = new Map(served.scores.map((s) => [s.label, s.score]));
    const b = new Map(shadow.scores.map((s) => [s.label, s.score]));
    let diff = 0;
    for (const label of new Set([...a.keys(), ...b.keys()])) diff = Math.max(diff, Math.abs((a.get(label) ?? 0) - (b.get(label) ?? 0)));
    return { labelAgrees: served.scores[0]?.label === shadow.scores[0]?.label, scoreDiff: diff };
  }
  if (served.kind === 'embedding' && shadow.kind === 'embedding' && served.vector.length === shadow.vector.length) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < served.vector.length; i++) {
      const x = served.vector[i]!;
      const y = shadow.vector[i]!;
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    return na > 0 && nb > 0 ? { cosine: dot / Math.sqrt(na * nb) } : {};
  }
  return {};
}
