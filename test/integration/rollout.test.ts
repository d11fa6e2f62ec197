// Versions and rollout as deployed: one gateway process over a repository with several versions per
// model (tiny classifiers, and sentence-transformers export fixtures for embeddings), driven over
// HTTP. Pinning, the canary's share over 2,000 requests, shadow agreement metrics, and a rollback by
// editing rollout.json and sending SIGHUP.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifyDocument, EmbedDocument, HealthDocument, ModelsDocument } from '../generated/graphql.js';
import { copyExport } from '../support/exports.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';
import { sample, scrape } from '../support/metrics.js';
import { addTinyVersion, makeRepo, SWAPPED_LABELS, writeRollout } from '../support/model-repo.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { until } from '../support/wait.js';

const CANARY_SHARE = 0.25;
const REQUESTS = 2000;

let gw: GatewayProcess;
let repo: string;
let otlp: OtlpReceiver;

beforeAll(async () => {
  repo = await makeRepo();
  // spam: 1.0.0 serves, 2.0.0 is the canary (same graph, so both answer alike; answers say which).
  await addTinyVersion(repo, 'spam', '1.0.0', { modelJson: { default: true } });
  await addTinyVersion(repo, 'spam', '2.0.0');
  await writeRollout(repo, 'spam', { serving: '1.0.0', canary: { version: '2.0.0', share: CANARY_SHARE } });
  // Shadows that agree and disagree with what serves.
  await addTinyVersion(repo, 'agree', '1');
  await addTinyVersion(repo, 'agree', '2');
  await writeRollout(repo, 'agree', { serving: '1', shadow: { version: '2', sample: 1 } });
  await addTinyVersion(repo, 'disagree', '1');
  await addTinyVersion(repo, 'disagree', '2', SWAPPED_LABELS);
  await writeRollout(repo, 'disagree', { serving: '1', shadow: { version: '2', sample: 1 } });
  // Embedders: the same export again (cosine 1), and another architecture of the same width.
  await copyExport('st-cls', undefined, path.join(repo, 'same-embedder', '1'));
  await copyExport('st-cls', undefined, path.join(repo, 'same-embedder', '2'));
  await writeRollout(repo, 'same-embedder', { serving: '1', shadow: { version: '2', sample: 1 } });
  await copyExport('st-cls', undefined, path.join(repo, 'new-embedder', '1'));
  await copyExport('mpnet', undefined, path.join(repo, 'new-embedder', '2'));
  await writeRollout(repo, 'new-embedder', { serving: '1', shadow: { version: '2', sample: 1 } });
  otlp = await startOtlpReceiver();
  // The watch is off: this file drives reloads with SIGHUP.
  gw = await startGatewayProcess({
    MODELS_DIR: repo,
    MODELS_WATCH_INTERVAL_MS: '0',
    CACHE_MAX_ENTRIES: '0',
    INFERENCE_WORKERS: '1',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  await gw.waitReady();
});

afterAll(async () => {
  expect(await gw.stop()).toBe(0);
  await otlp.close();
});

/** Runs `count` calls of `call(i)` with `concurrency` in flight. */
async function pool<T>(count: number, concurrency: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await call(i);
      }
    }),
  );
  return out;
}

describe('versions side by side', () => {
  it('lists every version with its state, and name@version pins one', async () => {
    const { data } = await execute(gw.url, ModelsDocument);
    const spam = data!.models.find((m) => m.name === 'spam')!;
    expect(spam.version).toBe('1.0.0');
    expect(spam.versions.map((v) => [v.version, v.state, v.share, v.weights])).toEqual([
      ['1.0.0', 'SERVING', 1 - CANARY_SHARE, 'onnx/model.onnx'],
      ['2.0.0', 'CANARY', CANARY_SHARE, 'onnx/model.onnx'],
    ]);
    const shadowed = data!.models.find((m) => m.name === 'disagree')!;
    expect(shadowed.versions.map((v) => [v.version, v.state, v.shadowSample])).toEqual([
      ['1', 'SERVING', 0],
      ['2', 'SHADOW', 1],
    ]);

    for (const version of ['1.0.0', '2.0.0']) {
      const pinned = await execute(gw.url, ClassifyDocument, { text: 'the cat sat', model: `spam@${version}` });
      expect(pinned.data!.classify.model).toEqual({ name: 'spam', version });
    }
    // A shadow version answers when pinned, with its own labels.
    const shadowPinned = await execute(gw.url, ClassifyDocument, { text: 'the cat sat', model: 'disagree@2' });
    expect(shadowPinned.data!.classify).toMatchObject({ label: 'spam', model: { version: '2' } });

    const unknown = await execute(gw.url, ClassifyDocument, { text: 'the cat', model: 'spam@9.9.9' });
    expect(unknown.errors?.[0]).toMatchObject({
      message: 'model "spam@9.9.9" does not exist; available: spam@1.0.0, spam@2.0.0',
      extensions: { code: 'MODEL_NOT_FOUND' },
    });
  });
});

describe('canary', () => {
  it(`answers its share of ${REQUESTS} requests within binomial bounds, and a repeated text always from the same version`, async () => {
    const answers = await pool(REQUESTS, 16, (i) => execute(gw.url, ClassifyDocument, { text: `the cat sat on mat number ${i}` }));
    expect(answers.filter((a) => a.errors)).toEqual([]);
    const canary = answers.filter((a) => a.data!.classify.model.version === '2.0.0').length;
    const serving = answers.filter((a) => a.data!.classify.model.version === '1.0.0').length;
    expect(canary + serving).toBe(REQUESTS);
    // A binomial count: mean n p, standard deviation sqrt(n p (1 - p)); 4.5 of them either side is a
    // false alarm about once in 150,000 runs, and still catches a share off by 0.05 (about 5 deviations).
    const sd = Math.sqrt(REQUESTS * CANARY_SHARE * (1 - CANARY_SHARE));
    expect(Math.abs(canary - REQUESTS * CANARY_SHARE)).toBeLessThan(4.5 * sd);
    console.log(`canary answered ${canary} of ${REQUESTS} requests (${((100 * canary) / REQUESTS).toFixed(1)}%, share ${CANARY_SHARE})`);

    const repeated = await pool(20, 4, () => execute(gw.url, ClassifyDocument, { text: 'the same dog ran' }));
    expect(new Set(repeated.map((a) => a.data!.classify.model.version)).size).toBe(1);

    const metrics = await scrape(gw.base);
    expect(sample(metrics, 'nlp_version_texts_total', { model: 'spam', version: '2.0.0' })).toBeGreaterThanOrEqual(canary);
    expect(sample(metrics, 'nlp_model_traffic_share', { model: 'spam', version: '2.0.0' })).toBe(CANARY_SHARE);
    expect(sample(metrics, 'nlp_model_info', { model: 'spam', version: '2.0.0', state: 'CANARY' })).toBe(1);
  });

  it('rolls back by config: rollout.json without the canary and SIGHUP, and every text is answered by the serving version', async () => {
    await writeRollout(repo, 'spam', { serving: '1.0.0' });
    const applied = gw.logs.length;
    gw.child.kill('SIGHUP');
    await until(() => gw.logs.slice(applied).some((l) => l.msg === 'model reload applied' && l['model'] === 'spam'), 'the reload of spam');
    expect(gw.logs.slice(applied).find((l) => l.msg === 'model version state changed')).toMatchObject({ model: 'spam', version: '2.0.0', from: 'CANARY', to: 'STANDBY' });
    const answers = await pool(200, 8, (i) => execute(gw.url, ClassifyDocument, { text: `rolled back text ${i}` }));
    expect(new Set(answers.map((a) => a.data!.classify.model.version))).toEqual(new Set(['1.0.0']));
    const { data } = await execute(gw.url, ModelsDocument);
    expect(data!.models.find((m) => m.name === 'spam')!.versions.map((v) => [v.version, v.state, v.share])).toEqual([
      ['1.0.0', 'SERVING', 1],
      ['2.0.0', 'STANDBY', 0],
    ]);
    // The reload is a trace of its own, with the rollout event.
    await until(() => otlp.spans.some((s) => s.name === 'models reload'), 'the reload span');
    const reload = otlp.spans.find((s) => s.name === 'models reload')!;
    expect(reload.attributes).toMatchObject({ 'nlp.reload.trigger': 'signal', 'nlp.reload.applied': 'spam' });
    expect(reload.events).toContainEqual({
      name: 'model.state',
      attributes: { 'nlp.model': 'spam', 'nlp.model.version': '2.0.0', 'nlp.model.state.from': 'CANARY', 'nlp.model.state.to': 'STANDBY', 'nlp.model.share': 0, 'nlp.model.shadow_sample': 0 },
    });
    // Batch spans say which version computed.
    expect(otlp.spans.some((s) => s.name === 'batch spam' && s.attributes['nlp.model.version'] === '2.0.0')).toBe(true);
  });
});

describe('shadow', () => {
  it('returns the serving answers only, and exports how far the shadow version agrees', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `the dog ran ${'on the mat '.repeat(i % 5)}${i}`);
    for (const model of ['agree', 'disagree']) {
      const answers = await pool(texts.length, 8, (i) => execute(gw.url, ClassifyDocument, { text: texts[i]!, model }));
      expect(answers.map((a) => [a.data!.classify.label, a.data!.classify.model.version])).toEqual(texts.map(() => ['ham', '1']));
    }
    const vectors = new Map<string, number[][]>();
    for (const model of ['same-embedder', 'new-embedder']) {
      const answers = await pool(texts.length, 8, (i) => execute(gw.url, EmbedDocument, { text: texts[i]!, model }));
      expect(answers.every((a) => a.data!.embed.model.version === '1')).toBe(true);
      vectors.set(model, answers.map((a) => a.data!.embed.values));
    }
    // The shadow does not change what clients get: both embedders serve the same export.
    expect(vectors.get('new-embedder')).toEqual(vectors.get('same-embedder'));

    let metrics = '';
    await until(async () => {
      metrics = await scrape(gw.base);
      return ['agree', 'disagree', 'same-embedder', 'new-embedder'].every((model) => sample(metrics, 'nlp_shadow_texts_total', { model, version: '2', result: 'compared' }) === texts.length);
    }, 'every shadow comparison');
    const gauge = (name: string, model: string, stat?: string) => sample(metrics, name, { model, version: '2', ...(stat ? { stat } : {}) });
    expect(gauge('nlp_shadow_label_agreement', 'agree')).toBe(1);
    expect(gauge('nlp_shadow_score_difference', 'agree', 'max')).toBeLessThan(1e-6);
    expect(gauge('nlp_shadow_label_agreement', 'disagree')).toBe(0);
    expect(gauge('nlp_shadow_score_difference', 'disagree', 'mean')).toBeGreaterThan(0.1);
    expect(gauge('nlp_shadow_embedding_cosine', 'same-embedder', 'min')).toBeGreaterThan(0.9999);
    expect(gauge('nlp_shadow_embedding_cosine', 'new-embedder', 'mean')).toBeLessThan(0.99);
    expect(gauge('nlp_shadow_window_size', 'disagree')).toBe(texts.length);
    console.log(
      `shadow agreement: disagree score difference mean ${gauge('nlp_shadow_score_difference', 'disagree', 'mean').toFixed(3)}, new-embedder cosine mean ${gauge('nlp_shadow_embedding_cosine', 'new-embedder', 'mean').toFixed(3)}`,
    );
    // Shadow answers are not clients' answers: the drift window of the serving version has only the client texts.
    expect(sample(metrics, 'nlp_drift_window_size', { model: 'disagree' })).toBe(texts.length);
    expect((await execute(gw.url, HealthDocument)).data!.health.status).toBe('OK');
  });
});
