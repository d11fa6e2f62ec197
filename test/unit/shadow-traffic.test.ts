// Shadow traffic's rules: how two answers are compared, which answers are sampled, when shadow work is
// dropped instead of queued, and the agreement gauges. The shadow runs are controlled promises here,
// to hold the shadow queue full at will; test/integration/rollout.test.ts runs real versions.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/inference/model.js';
import type { PathAnswer, TextRequest } from '../../src/resilience/inference-path.js';
import { compare, SHADOW_CLIENT, ShadowTraffic, type ShadowEvent } from '../../src/resilience/shadow-traffic.js';
import { ShadowAgreement } from '../../src/telemetry/shadow-agreement.js';

const cls = (scores: [string, number][]) => ({ kind: 'classification' as const, scores: scores.map(([label, score]) => ({ label, score })), tokens: 3, truncated: false });
const emb = (v: number[]) => ({ kind: 'embedding' as const, vector: Float32Array.from(v), tokens: 3, truncated: false });

describe('compare', () => {
  it('classification: same top label, and the largest difference of any label (a missing label counts 0)', () => {
    expect(compare(cls([['ham', 0.9], ['spam', 0.1]]), cls([['ham', 0.7], ['spam', 0.3]]))).toEqual({ labelAgrees: true, scoreDiff: expect.closeTo(0.2, 12) });
    expect(compare(cls([['ham', 0.6], ['spam', 0.4]]), cls([['spam', 0.8], ['ham', 0.2]]))).toEqual({ labelAgrees: false, scoreDiff: expect.closeTo(0.4, 12) });
    expect(compare(cls([['a', 0.5], ['b', 0.5]]), cls([['a', 0.4], ['b', 0.3], ['c', 0.3]])).scoreDiff).toBeCloseTo(0.3, 12);
  });

  it('embedding: cosine of the raw vectors; none when the dimensions differ or a vector is zero', () => {
    expect(compare(emb([1, 0, 0]), emb([2, 0, 0])).cosine).toBeCloseTo(1, 12);
    expect(compare(emb([1, 0]), emb([0, 1])).cosine).toBeCloseTo(0, 12);
    expect(compare(emb([1, 1]), emb([1, 1, 1]))).toEqual({});
    expect(compare(emb([0, 0]), emb([1, 1]))).toEqual({});
  });
});

describe('ShadowTraffic', () => {
  const serving = { name: 'spam', version: '1' } as Model;
  const shadow = { name: 'spam', version: '2' } as Model;
  const request = (i: number): TextRequest => ({ text: `text ${i}`, where: 'text', truncate: false, client: 'addr:1' });
  const answer = (fallback = false): PathAnswer => ({ result: cls([['ham', 0.9], ['spam', 0.1]]), model: serving, cached: false, fallback });

  function setUp(options: { sample?: number; maxPending?: number; busy?: boolean; fail?: boolean } = {}) {
    const events: ShadowEvent[] = [];
    const runs: { request: TextRequest; resolve: (a: PathAnswer) => void; reject: (e: Error) => void }[] = [];
    const traffic = new ShadowTraffic(
      { maxPending: options.maxPending ?? 100 },
      {
        target: () => ({ model: shadow, sample: options.sample ?? 1 }),
        run: (_model, req) => new Promise((resolve, reject) => runs.push({ request: req, resolve, reject })),
        busy: () => options.busy ?? false,
        onShadow: (e) => events.push(e),
      },
      () => 0.5,
    );
    return { traffic, events, runs };
  }
  const settle = () => new Promise((r) => setImmediate(r));

  it('runs a sampled text after its answer, as the shadow client, with truncation allowed, and reports the comparison', async () => {
    const { traffic, events, runs } = setUp();
    let answered!: (a: PathAnswer) => void;
    const client = new Promise<PathAnswer>((r) => (answered = r));
    traffic.follow(serving, [request(1)], [client]);
    await settle();
    expect(runs).toHaveLength(0); // not before the client's answer
    answered(answer());
    await settle();
    await settle();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.request).toMatchObject({ text: 'text 1', client: SHADOW_CLIENT, truncate: true });
    runs[0]!.resolve({ ...answer(), model: shadow, result: cls([['spam', 0.6], ['ham', 0.4]]) });
    await settle();
    expect(events).toEqual([{ model: 'spam', version: '2', servingVersion: '1', result: 'compared', labelAgrees: false, scoreDiff: expect.closeTo(0.5, 12) }]);
  });

  it('samples: a text whose draw is over the sample is not run; neither is a fallback answer nor a failed one', async () => {
    const { traffic, runs } = setUp({ sample: 0.4 });
    traffic.follow(serving, [request(1)], [Promise.resolve(answer())]);
    const other = setUp({ sample: 1 });
    other.traffic.follow(serving, [request(1), request(2)], [Promise.resolve(answer(true)), Promise.reject(new Error('model failed'))]);
    await settle();
    await settle();
    expect(runs).toHaveLength(0);
    expect(other.runs).toHaveLength(0);
  });

  it('drops instead of queueing: at SHADOW_MAX_QUEUE pending, and while the serving version has a batch waiting', async () => {
    const { traffic, events, runs } = setUp({ maxPending: 2 });
    traffic.follow(serving, [1, 2, 3].map(request), [1, 2, 3].map(() => Promise.resolve(answer())));
    await settle();
    await settle();
    expect(runs).toHaveLength(2);
    expect(events).toEqual([{ model: 'spam', version: '2', servingVersion: '1', result: 'dropped', reason: 'queue' }]);
    expect(traffic.pendingFor(shadow)).toBe(2);
    runs[0]!.reject(new Error('shadow version failed'));
    await settle();
    expect(events.at(-1)).toMatchObject({ result: 'failed' });
    expect(traffic.pendingFor(shadow)).toBe(1);

    const busy = setUp({ busy: true });
    busy.traffic.follow(serving, [request(1)], [Promise.resolve(answer())]);
    await settle();
    await settle();
    expect(busy.runs).toHaveLength(0);
    expect(busy.events).toEqual([{ model: 'spam', version: '2', servingVersion: '1', result: 'dropped', reason: 'busy' }]);
  });
});

describe('the agreement gauges', () => {
  const read = async (registry: Registry, name: string, labels: Record<string, string>) => {
    const metric = await registry.getSingleMetric(name)!.get();
    return metric.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
  };

  it('show label agreement, score differences and cosines over the window, and count every sampled text', async () => {
    const registry = new Registry();
    const agreement = new ShadowAgreement(registry, 4);
    const base = { model: 'spam', version: '2', servingVersion: '1' };
    for (const [agrees, diff] of [[true, 0.1], [true, 0.2], [false, 0.6], [true, 0.3], [true, 0.1]] as const) {
      agreement.observe({ ...base, result: 'compared', labelAgrees: agrees, scoreDiff: diff });
    }
    agreement.observe({ ...base, result: 'dropped', reason: 'busy' });
    // The window holds the last 4: [0.2 agree, 0.6 disagree, 0.3 agree, 0.1 agree].
    expect(await read(registry, 'nlp_shadow_window_size', { model: 'spam', version: '2' })).toBe(4);
    expect(await read(registry, 'nlp_shadow_label_agreement', { model: 'spam', version: '2' })).toBe(0.75);
    expect(await read(registry, 'nlp_shadow_score_difference', { model: 'spam', stat: 'mean' })).toBeCloseTo(0.3, 12);
    expect(await read(registry, 'nlp_shadow_score_difference', { model: 'spam', stat: 'max' })).toBe(0.6);
    expect(await read(registry, 'nlp_shadow_texts_total', { result: 'compared' })).toBe(5);
    expect(await read(registry, 'nlp_shadow_texts_total', { result: 'dropped_busy' })).toBe(1);

    agreement.observe({ model: 'emb', version: '9', servingVersion: '8', result: 'compared', cosine: 0.5 });
    agreement.observe({ model: 'emb', version: '9', servingVersion: '8', result: 'compared', cosine: 0.9 });
    expect(await read(registry, 'nlp_shadow_embedding_cosine', { model: 'emb', stat: 'mean' })).toBeCloseTo(0.7, 12);
    expect(await read(registry, 'nlp_shadow_embedding_cosine', { model: 'emb', stat: 'min' })).toBe(0.5);
    // A new shadow version starts a new window.
    agreement.observe({ model: 'emb', version: '10', servingVersion: '8', result: 'compared', cosine: 1 });
    expect(await read(registry, 'nlp_shadow_window_size', { model: 'emb' })).toBe(1);
  });
});
