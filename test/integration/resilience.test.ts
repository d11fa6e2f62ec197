// Breaker, fallback and shutdown under real faults: models whose ONNX graph fails at run time on
// certain inputs (test/fixtures/onnx/faulty-classifier.onnx), served by a real gateway process.
import { afterEach, describe, expect, it } from 'vitest';
import { ClassifyDocument, HealthDocument } from '../generated/graphql.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';
import { sample, scrape } from '../support/metrics.js';
import { addTinyClassifier, makeFaultyRepo, makeRepo } from '../support/model-repo.js';

const BREAKER = {
  BREAKER_WINDOW: '4',
  BREAKER_MIN_CALLS: '3',
  BREAKER_FAILURE_RATIO: '0.5',
  BREAKER_HALF_OPEN_AFTER_MS: '1500',
  BATCH_MAX_DELAY_MS: '1',
};

let gw: GatewayProcess | undefined;
afterEach(async () => {
  if (gw) expect(await gw.stop()).toBe(0);
  gw = undefined;
});

const breakerOf = async (g: GatewayProcess, name: string) =>
  (await execute(g.url, HealthDocument)).data!.health.models.find((m) => m.name === name)!.breaker;

describe('circuit breaker and fallback', () => {
  it('opens after failures, answers from the fallback, half-opens and closes when the primary heals', async () => {
    gw = await startGatewayProcess({ MODELS_DIR: await makeFaultyRepo(), ...BREAKER });
    await gw.waitReady();
    const timeline: string[] = [];

    const healthy = await execute(gw.url, ClassifyDocument, { text: 'the cat' });
    expect(healthy.data!.classify).toMatchObject({ fallback: false, model: { name: 'primary' } });

    for (let i = 0; i < 5; i++) {
      const { data, errors } = await execute(gw.url, ClassifyDocument, { text: `the cat ${i} !` });
      expect(errors).toBeUndefined();
      expect(data!.classify).toMatchObject({ fallback: true, model: { name: 'backup' } });
      timeline.push(`fail ${i}: ${await breakerOf(gw, 'primary')}`);
    }
    expect(await breakerOf(gw, 'primary')).toBe('OPEN');
    expect((await execute(gw.url, HealthDocument)).data!.health.status).toBe('DEGRADED');

    // Open: even a text the primary could answer goes to the fallback, at once.
    const started = performance.now();
    const whileOpen = await execute(gw.url, ClassifyDocument, { text: 'the mat' });
    expect(performance.now() - started).toBeLessThan(500);
    expect(whileOpen.data!.classify).toMatchObject({ fallback: true, model: { name: 'backup' } });

    const metrics = await scrape(gw.base);
    expect(sample(metrics, 'nlp_circuit_state', { model: 'primary' })).toBe(2);
    expect(sample(metrics, 'nlp_fallback_total', { model: 'primary', fallback: 'backup' })).toBe(6);

    await new Promise((r) => setTimeout(r, 1_700));
    expect(await breakerOf(gw, 'primary')).toBe('HALF_OPEN');
    const healed = await execute(gw.url, ClassifyDocument, { text: 'the dog' });
    expect(healed.data!.classify).toMatchObject({ fallback: false, model: { name: 'primary' } });
    expect(await breakerOf(gw, 'primary')).toBe('CLOSED');
    expect((await execute(gw.url, HealthDocument)).data!.health.status).toBe('OK');
    expect(sample(await scrape(gw.base), 'nlp_circuit_state', { model: 'primary' })).toBe(0);

    const transitions = gw.logs.filter((l) => l.msg === 'circuit breaker state changed').map((l) => l.breaker);
    expect(transitions).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
    console.log(`breaker timeline: ${timeline.join(', ')} -> open answered by backup -> half-open after 1.5 s -> closed`);
  });

  it('without a fallback, fails with MODEL_UNAVAILABLE, and fast while the breaker is open', async () => {
    gw = await startGatewayProcess({ MODELS_DIR: await makeFaultyRepo(), ...BREAKER });
    await gw.waitReady();
    for (let i = 0; i < 4; i++) {
      const { errors } = await execute(gw.url, ClassifyDocument, { text: `the cat ${i} !`, model: 'lonely' });
      expect(errors?.[0]?.extensions?.code).toBe('MODEL_UNAVAILABLE');
    }
    expect(await breakerOf(gw, 'lonely')).toBe('OPEN');
    const started = performance.now();
    const { errors } = await execute(gw.url, ClassifyDocument, { text: 'the mat', model: 'lonely' });
    expect(performance.now() - started).toBeLessThan(200);
    expect(errors?.[0]?.extensions?.code).toBe('MODEL_UNAVAILABLE');
    expect(errors?.[0]?.message).not.toMatch(/Gather|onnxruntime|\.cc/);
    // Other models are untouched.
    expect((await execute(gw.url, ClassifyDocument, { text: 'the mat', model: 'backup' })).data!.classify.fallback).toBe(false);
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM under load, finishes every accepted request, refuses new ones cleanly, then exits 0', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny');
    // A long batch delay keeps the accepted requests queued at the moment SIGTERM lands.
    gw = await startGatewayProcess({ MODELS_DIR: repo, BATCH_MAX_DELAY_MS: '1000', BATCH_MAX_SIZE: '64', SHUTDOWN_GRACE_MS: '8000', CACHE_MAX_ENTRIES: '0' });
    await gw.waitReady();
    const n = 40;
    // Distinct token sequences in the tiny vocabulary (identical ones would be computed once).
    const words = ['the', 'cat', 'sat', 'on', 'mat', 'a', 'dog', 'ran'];
    const inFlight = Array.from({ length: n }, (_, i) => execute(gw!.url, ClassifyDocument, { text: `${words[i % 8]} ${words[i >> 3]}` }));
    // Every request has reached the batcher: accepted, and not yet answered.
    const deadline = Date.now() + 5_000;
    while (sample(await scrape(gw.base), 'nlp_queue_depth', { model: 'tiny' }) < n) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 20));
    }
    gw.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const late = await execute(gw.url, ClassifyDocument, { text: 'the mat' });
    expect(late.status).toBe(503);
    expect(late.errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
    expect((await fetch(`${gw.base}/readyz`)).status).toBe(503);

    const answers = await Promise.all(inFlight);
    expect(answers.filter((a) => a.status === 200 && a.errors === undefined && a.data!.classify.label)).toHaveLength(n);
    expect(await gw.exited).toBe(0);
    gw = undefined;
  });
});
