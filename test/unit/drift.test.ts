// Drift gauges: PSI by hand, length bins collapsed at maxTokens, and the monitor fed with traffic
// drawn from spam-bert's real baseline (stable) and with traffic unlike it (alerting), read back
// through the Prometheus registry as a scrape would.
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { modelSpecSchema, type ClassificationSpec } from '../../src/inference/model-spec.js';
import type { AnswerEvent } from '../../src/resilience/inference-path.js';
import { DriftMonitor, psi, type Baseline } from '../../src/telemetry/drift.js';
import { collapseLengthBins, lengthBin } from '../../src/telemetry/drift/length-bins.js';

const spec = modelSpecSchema.parse(
  JSON.parse(readFileSync(new URL('../../models/spam-bert/model.json', import.meta.url), 'utf8')),
) as ClassificationSpec;
// model.json's parsed baseline is what the gateway hands the monitor.
const baseline: Baseline = spec.baseline!;
const MODEL = 'spam-bert';

/** mulberry32: a small seeded PRNG, so the sampled traffic is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function classification(top: string, score: number, tokens: number, full: number | undefined, unknown: number | undefined): AnswerEvent {
  const other = top === 'spam' ? 'ham' : 'spam';
  return {
    model: MODEL,
    version: '1',
    task: 'classification',
    cached: full === undefined,
    fallback: false,
    tokens,
    fullTokens: full,
    truncated: full !== undefined && full > spec.maxTokens,
    unknownTokens: unknown,
    scores: [
      { label: top, score },
      { label: other, score: 1 - score },
    ],
  };
}

/** Texts like the held-out data, answered as the gateway would: truncated at maxTokens, some from the cache. */
function inDistribution(rand: () => number, i: number): AnswerEvent {
  const { edges, share } = baseline.tokenLength!;
  let bin = 0;
  for (let u = rand(), acc = share[0]!; u >= acc && bin < share.length - 1; acc += share[++bin]!);
  const lo = edges[bin]!;
  const hi = edges[bin + 1] ?? 2 * lo;
  const full = lo + Math.floor(rand() * (hi - lo));
  const truncated = full > spec.maxTokens;
  const tokens = Math.min(full, spec.maxTokens);
  const label = rand() < baseline.labels!.spam! ? 'spam' : 'ham';
  // Uniform on [1 - 2(1 - mean), 1]: mean confidence equals the baseline's.
  const score = 1 - 2 * (1 - baseline.meanConfidence!) * rand();
  // One unknown token with probability ratio * tokens keeps the expected ratio at the baseline's.
  const unknown = rand() < baseline.unknownTokenRatio! * tokens ? 1 : 0;
  const cached = i % 5 === 4;
  // A truncated text's full length is often only known as a lower bound.
  const fullTokens = cached ? undefined : truncated && i % 2 === 0 ? spec.maxTokens + 1 : full;
  return { ...classification(label, score, tokens, fullTokens, cached ? undefined : unknown), cached, truncated };
}

/** Texts unlike the training data: very short, full of unknown tokens, mostly "spam" with little confidence. */
function shifted(rand: () => number): AnswerEvent {
  const tokens = 3 + Math.floor(rand() * 4);
  const label = rand() < 0.95 ? 'spam' : 'ham';
  return { ...classification(label, 0.5 + 0.15 * rand(), tokens, tokens, Math.round(0.3 * tokens)), truncated: false };
}

type Labels = Record<string, string>;

async function read(registry: Registry, name: string, labels: Labels): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want));
  return sample?.value;
}

async function samples(registry: Registry, name: string): Promise<{ labels: Labels; value: number }[]> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).map((v) => ({ labels: v.labels as Labels, value: v.value }));
}

function spamMonitor(window = 1000): { registry: Registry; monitor: DriftMonitor } {
  const registry = new Registry();
  const monitor = new DriftMonitor(registry, [{ name: MODEL, version: '1', task: 'classification', labels: spec.labels, maxTokens: spec.maxTokens, baseline }], {
    window,
  });
  return { registry, monitor };
}

/** The alert conditions of docs/drift.md, evaluated on the scraped values. */
async function alerts(registry: Registry) {
  const psiLabel = (await read(registry, 'nlp_drift_psi', { model: MODEL, feature: 'label' }))!;
  const psiLength = (await read(registry, 'nlp_drift_psi', { model: MODEL, feature: 'length' }))!;
  const unknown = (await read(registry, 'nlp_unknown_token_ratio', { model: MODEL }))!;
  const confidence = (await read(registry, 'nlp_confidence_score', { model: MODEL }))!;
  return {
    psiLabel,
    psiLength,
    unknown,
    confidence,
    unknownAlert: unknown > 5 * baseline.unknownTokenRatio! || unknown > baseline.unknownTokenRatio! + 0.05,
    confidenceAlert: confidence < baseline.meanConfidence! - 0.1,
  };
}

describe('psi', () => {
  it('is 0 for identical distributions', () => {
    expect(psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5])).toBe(0);
    expect(psi([0, 1], [0, 1])).toBe(0);
  });

  it('matches a 2-bin case computed by hand', () => {
    // (0.5 - 0.25) ln(0.5/0.25) + (0.5 - 0.75) ln(0.5/0.75) = 0.25 ln 2 + 0.25 ln 1.5 = 0.25 ln 3
    expect(psi([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.25 * Math.log(3), 12);
    expect(psi([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.274653, 6);
    // symmetric in its arguments
    expect(psi([0.25, 0.75], [0.5, 0.5])).toBeCloseTo(0.25 * Math.log(3), 12);
  });

  it('counts an empty bin as epsilon', () => {
    // (1 - 0.5) ln(1/0.5) + (1e-4 - 0.5) ln(1e-4/0.5) = 0.5 ln 2 + 0.4999 ln 5000
    expect(psi([1, 0], [0.5, 0.5])).toBeCloseTo(0.5 * Math.log(2) + 0.4999 * Math.log(5000), 12);
    expect(psi([1, 0], [0.5, 0.5])).toBeCloseTo(4.604319, 5);
    expect(psi([1, 0], [0.5, 0.5], 1e-2)).toBeCloseTo(0.5 * Math.log(2) + 0.49 * Math.log(50), 12);
  });

  it('refuses distributions over different bins', () => {
    expect(() => psi([1], [0.5, 0.5])).toThrow(RangeError);
  });
});

describe('length bins', () => {
  const tokenLength = baseline.tokenLength!;

  it('merges every baseline bin at or above maxTokens into one open bin', () => {
    const bins = collapseLengthBins(tokenLength, 128)!;
    expect(bins.lower).toEqual([0, 8, 16, 32, 64, 128]);
    expect(bins.base.slice(0, 5)).toEqual([0, 0, 0.005569, 0.015115, 0.128083].map((s) => expect.closeTo(s, 9)));
    expect(bins.base[5]).toBeCloseTo(0.25537 + 0.296738 + 0.181384 + 0.117741, 9);
    expect(lengthBin(bins, 3, false)).toBe(0);
    expect(lengthBin(bins, 127, false)).toBe(4);
    expect(lengthBin(bins, 128, false)).toBe(5);
    expect(lengthBin(bins, 129, true)).toBe(5);
    // a truncated text is open-ended whatever length was read
    expect(lengthBin(bins, 100, true)).toBe(5);
  });

  it('splits a bin straddling maxTokens in proportion to its width', () => {
    const bins = collapseLengthBins(tokenLength, 100)!;
    expect(bins.lower).toEqual([0, 8, 16, 32, 64, 100]);
    // [64, 128) is 36/64 below 100
    expect(bins.base[4]).toBeCloseTo((0.128083 * 36) / 64, 9);
    expect(bins.base[5]).toBeCloseTo((0.128083 * 28) / 64 + 0.851233, 9);
    expect(lengthBin(bins, 99, false)).toBe(4);
    expect(lengthBin(bins, 100, false)).toBe(5);
  });

  it('keeps the baseline bins when maxTokens is past the last edge', () => {
    const bins = collapseLengthBins(tokenLength, 4096)!;
    expect(bins.lower).toEqual([0, 8, 16, 32, 64, 128, 256, 512, 1024]);
    expect(lengthBin(bins, 2000, false)).toBe(8);
  });

  it('rejects a malformed baseline', () => {
    expect(collapseLengthBins({ edges: [0, 8, 16], share: [0.5, 0.5] }, 128)).toBeUndefined();
    expect(collapseLengthBins({ edges: [0, 16, 8], share: [0.5, 0.25, 0.25] }, 128)).toBeUndefined();
    expect(collapseLengthBins({ edges: [0, 8], share: [0, 0] }, 128)).toBeUndefined();
    // maxTokens at the first edge leaves one bin: nothing to compare
    expect(collapseLengthBins({ edges: [8, 16], share: [0.5, 0.5] }, 8)).toBeUndefined();
  });
});

describe('DriftMonitor with the spam-bert baseline', () => {
  it('reports nothing before any answer, and the baselines at once', async () => {
    const { registry } = spamMonitor();
    for (const name of ['nlp_drift_window_size', 'nlp_confidence_score', 'nlp_prediction_share', 'nlp_drift_psi', 'nlp_unknown_token_ratio']) {
      expect(await samples(registry, name), name).toEqual([]);
    }
    expect(await read(registry, 'nlp_drift_baseline', { model: MODEL, stat: 'mean_confidence' })).toBe(baseline.meanConfidence);
    expect(await read(registry, 'nlp_drift_baseline', { model: MODEL, stat: 'unknown_token_ratio' })).toBe(baseline.unknownTokenRatio);
  });

  it('stays stable on in-distribution traffic and alerts on traffic unlike the training data', async () => {
    const { registry, monitor } = spamMonitor(1000);
    const rand = prng(42);
    for (let i = 0; i < 1000; i++) monitor.observe(inDistribution(rand, i));

    const stable = await alerts(registry);
    expect(await read(registry, 'nlp_drift_window_size', { model: MODEL })).toBe(1000);
    expect(stable.psiLabel).toBeLessThan(0.1);
    expect(stable.psiLength).toBeLessThan(0.1);
    expect(stable.unknown).toBeLessThan(3 * baseline.unknownTokenRatio!);
    expect(stable.unknown).toBeGreaterThan(baseline.unknownTokenRatio! / 3);
    expect(stable.unknownAlert).toBe(false);
    expect(stable.confidence).toBeCloseTo(baseline.meanConfidence!, 2);
    expect(stable.confidenceAlert).toBe(false);
    const spamShare = (await read(registry, 'nlp_prediction_share', { model: MODEL, label: 'spam' }))!;
    const hamShare = (await read(registry, 'nlp_prediction_share', { model: MODEL, label: 'ham' }))!;
    expect(spamShare).toBeCloseTo(baseline.labels!.spam!, 1);
    expect(spamShare + hamShare).toBeCloseTo(1, 12);

    for (let i = 0; i < 1000; i++) monitor.observe(shifted(rand));
    const drifted = await alerts(registry);
    expect(drifted.psiLength).toBeGreaterThan(0.25);
    expect(drifted.psiLabel).toBeGreaterThan(0.25);
    expect(drifted.unknown).toBeGreaterThan(0.05);
    expect(drifted.unknownAlert).toBe(true);
    expect(drifted.confidenceAlert).toBe(true);
    expect(await read(registry, 'nlp_prediction_share', { model: MODEL, label: 'spam' })).toBeCloseTo(0.95, 1);
    expect(await read(registry, 'nlp_drift_window_size', { model: MODEL })).toBe(1000);
  });

  it('forgets a shift once `window` newer answers have come in', async () => {
    const { registry, monitor } = spamMonitor(500);
    const rand = prng(7);
    for (let i = 0; i < 500; i++) monitor.observe(shifted(rand));
    expect((await alerts(registry)).psiLength).toBeGreaterThan(0.25);

    // Half way, the window still holds half of the shift.
    for (let i = 0; i < 250; i++) monitor.observe(inDistribution(rand, i));
    const halfway = await alerts(registry);
    expect(halfway.psiLength).toBeGreaterThan(0.25);
    expect(halfway.unknownAlert).toBe(true);

    for (let i = 250; i < 500; i++) monitor.observe(inDistribution(rand, i));
    const after = await alerts(registry);
    expect(after.psiLength).toBeLessThan(0.1);
    expect(after.psiLabel).toBeLessThan(0.1);
    expect(after.unknownAlert).toBe(false);
    expect(after.confidenceAlert).toBe(false);
    expect(await read(registry, 'nlp_drift_window_size', { model: MODEL })).toBe(500);
  });

  it('grows the window up to its size, and ignores models and labels it was not given', async () => {
    const { registry, monitor } = spamMonitor(1000);
    const rand = prng(1);
    for (let i = 0; i < 10; i++) monitor.observe(inDistribution(rand, i));
    monitor.observe({ ...shifted(rand), model: 'someone-elses-model' });
    monitor.observe({ ...shifted(rand), scores: [{ label: 'not-in-model-json', score: 0.9 }] });
    expect(await read(registry, 'nlp_drift_window_size', { model: MODEL })).toBe(11);
    const shares = await samples(registry, 'nlp_prediction_share');
    expect(shares.map((s) => s.labels.label).sort()).toEqual(['ham', 'spam']);
    expect((await samples(registry, 'nlp_drift_window_size')).map((s) => s.labels.model)).toEqual([MODEL]);
  });
});

describe('DriftMonitor edge cases', () => {
  it('gives models without a baseline the window gauges but no PSI', async () => {
    const registry = new Registry();
    const monitor = new DriftMonitor(registry, [{ name: 'plain', version: '1', task: 'classification', labels: ['a', 'b'], maxTokens: 64 }], { window: 4 });
    for (const [label, score] of [['a', 0.9], ['a', 0.7], ['b', 0.6], ['a', 0.8]] as const) {
      monitor.observe({
        model: 'plain', version: '1',
        task: 'classification',
        cached: false,
        fallback: false,
        tokens: 10,
        fullTokens: 10,
        truncated: false,
        unknownTokens: 1,
        scores: [{ label, score }],
      });
    }
    expect(await read(registry, 'nlp_confidence_score', { model: 'plain' })).toBeCloseTo(0.75, 12);
    expect(await read(registry, 'nlp_prediction_share', { model: 'plain', label: 'a' })).toBe(0.75);
    expect(await read(registry, 'nlp_prediction_share', { model: 'plain', label: 'b' })).toBe(0.25);
    expect(await read(registry, 'nlp_unknown_token_ratio', { model: 'plain' })).toBeCloseTo(0.1, 12);
    expect(await samples(registry, 'nlp_drift_psi')).toEqual([]);
    expect(await samples(registry, 'nlp_drift_baseline')).toEqual([]);
  });

  it('leaves cache hits out of the unknown-token ratio', async () => {
    const { registry, monitor } = spamMonitor(10);
    monitor.observe(classification('ham', 0.99, 20, 20, 2));
    monitor.observe(classification('ham', 0.99, 20, undefined, undefined));
    expect(await read(registry, 'nlp_unknown_token_ratio', { model: MODEL })).toBeCloseTo(0.1, 12);
    expect(await read(registry, 'nlp_drift_window_size', { model: MODEL })).toBe(2);
  });

  it('refuses a window that is not a positive integer', () => {
    expect(() => new DriftMonitor(new Registry(), [], { window: 0 })).toThrow(RangeError);
    expect(() => new DriftMonitor(new Registry(), [], { window: 2.5 })).toThrow(RangeError);
  });
});

describe('DriftMonitor with an embedding model', () => {
  it('reports the mean, p05 and p95 of the norms and their ratio to the baseline', async () => {
    const registry = new Registry();
    const monitor = new DriftMonitor(registry, [{ name: 'emb', version: '1', task: 'embedding', maxTokens: 256, baseline: { meanNorm: 50 } }], { window: 100 });
    // 1..100 in a scrambled order (37 is coprime with 100), so nothing depends on arrival order.
    for (let i = 0; i < 100; i++) {
      monitor.observe({
        model: 'emb', version: '1',
        task: 'embedding',
        cached: false,
        fallback: false,
        tokens: 12,
        fullTokens: 12,
        truncated: false,
        unknownTokens: 0,
        vectorNorm: ((i * 37) % 100) + 1,
      });
    }
    expect(await read(registry, 'nlp_embedding_norm', { model: 'emb', stat: 'mean' })).toBeCloseTo(50.5, 12);
    expect(await read(registry, 'nlp_embedding_norm', { model: 'emb', stat: 'p05' })).toBe(5);
    expect(await read(registry, 'nlp_embedding_norm', { model: 'emb', stat: 'p95' })).toBe(95);
    expect(await read(registry, 'nlp_drift_norm_ratio', { model: 'emb' })).toBeCloseTo(1.01, 12);
    expect(await read(registry, 'nlp_drift_baseline', { model: 'emb', stat: 'mean_norm' })).toBe(50);
    expect(await read(registry, 'nlp_unknown_token_ratio', { model: 'emb' })).toBe(0);
    // no classification gauges for an embedding model
    expect(await samples(registry, 'nlp_confidence_score')).toEqual([]);
    expect(await samples(registry, 'nlp_prediction_share')).toEqual([]);
    expect(await samples(registry, 'nlp_drift_psi')).toEqual([]);

    // The window keeps the last 100: 101..200 replace 1..100.
    for (let v = 101; v <= 200; v++) {
      monitor.observe({ model: 'emb', version: '1', task: 'embedding', cached: true, fallback: false, tokens: 12, fullTokens: undefined, truncated: false, unknownTokens: undefined, vectorNorm: v });
    }
    expect(await read(registry, 'nlp_embedding_norm', { model: 'emb', stat: 'mean' })).toBeCloseTo(150.5, 12);
    expect(await read(registry, 'nlp_embedding_norm', { model: 'emb', stat: 'p05' })).toBe(105);
    expect(await samples(registry, 'nlp_unknown_token_ratio')).toEqual([]);
  });

  it('gets a length PSI, and no label PSI, from a token-length baseline', async () => {
    const registry = new Registry();
    const tokenLength = { edges: [0, 16, 64], share: [0.5, 0.5, 0] };
    const monitor = new DriftMonitor(registry, [{ name: 'emb', version: '1', task: 'embedding', maxTokens: 512, baseline: { tokenLength } }], { window: 10 });
    for (const tokens of [4, 10, 20, 30]) {
      monitor.observe({ model: 'emb', version: '1', task: 'embedding', cached: false, fallback: false, tokens, fullTokens: tokens, truncated: false, unknownTokens: 0, vectorNorm: 1 });
    }
    const psis = await samples(registry, 'nlp_drift_psi');
    expect(psis).toEqual([{ labels: { model: 'emb', feature: 'length' }, value: 0 }]);
  });
});
