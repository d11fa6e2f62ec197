// Cross-request batching through the real HTTP server: concurrent requests from separate connections
// share model calls; a full queue fails fast with OVERLOADED and the gateway keeps serving.
import { afterEach, describe, expect, it } from 'vitest';
import { ClassifyDocument, HealthDocument, ModelsDocument } from '../generated/graphql.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';
import { sample, scrape } from '../support/metrics.js';

const text = (i: number) => `Message ${i}: please confirm the meeting about invoice ${i * 7} before the deadline on day ${i % 28}.`;

let gw: GatewayProcess | undefined;
afterEach(async () => {
  if (gw) expect(await gw.stop()).toBe(0);
  gw = undefined;
});

async function defaultClassifier(g: GatewayProcess): Promise<string> {
  const models = (await execute(g.url, ModelsDocument)).data!.models;
  return models.find((m) => m.task === 'CLASSIFICATION' && m.default)!.name;
}

describe('cross-request batching', () => {
  it('serves concurrent HTTP requests with fewer model calls than requests, each answer its own', async () => {
    gw = await startGatewayProcess({ BATCH_MAX_DELAY_MS: '20' });
    await gw.waitReady();
    const model = await defaultClassifier(gw);
    const before = await scrape(gw.base);

    const n = 48;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => execute(gw!.url, ClassifyDocument, { text: text(i) })));
    const after = await scrape(gw.base);

    expect(answers.every((a) => a.errors === undefined && a.data!.classify.model.name === model)).toBe(true);
    const calls = sample(after, 'nlp_model_calls_total', { model }) - sample(before, 'nlp_model_calls_total', { model });
    const items = sample(after, 'nlp_batched_items_total') - sample(before, 'nlp_batched_items_total');
    expect(items).toBe(n);
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(n / 3);
    // Batched answers equal the answer the same text gets alone.
    const alone = await execute(gw.url, ClassifyDocument, { text: text(5) });
    expect(answers[5]!.data!.classify.score).toBeCloseTo(alone.data!.classify.score, 5);
  });

  it('computes identical concurrent texts once', async () => {
    gw = await startGatewayProcess({ BATCH_MAX_DELAY_MS: '20' });
    await gw.waitReady();
    const before = await scrape(gw.base);
    const answers = await Promise.all(Array.from({ length: 10 }, () => execute(gw!.url, ClassifyDocument, { text: text(1) })));
    const after = await scrape(gw.base);
    expect(new Set(answers.map((a) => a.data!.classify.score)).size).toBe(1);
    expect(sample(after, 'nlp_deduplicated_total') - sample(before, 'nlp_deduplicated_total')).toBeGreaterThanOrEqual(5);
  });

  it('refuses work beyond the queue bound with OVERLOADED, fast, and keeps serving', async () => {
    gw = await startGatewayProcess({ BATCH_MAX_QUEUE: '4', BATCH_MAX_DELAY_MS: '50' });
    await gw.waitReady();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => execute(gw!.url, ClassifyDocument, { text: text(i) })));
    const codes = answers.map((a) => a.errors?.[0]?.extensions?.code ?? 'OK');
    expect(codes.filter((c) => c === 'OK').length).toBeGreaterThanOrEqual(4);
    expect(codes.filter((c) => c === 'OVERLOADED').length).toBeGreaterThan(0);
    expect(codes.every((c) => c === 'OK' || c === 'OVERLOADED')).toBe(true);
    // Refusals count per model queue: a text refused by the primary may be refused by its fallback too.
    expect(sample(await scrape(gw.base), 'nlp_overloaded_total')).toBeGreaterThanOrEqual(codes.filter((c) => c === 'OVERLOADED').length);
    const after = await execute(gw.url, ClassifyDocument, { text: text(99) });
    expect(after.errors).toBeUndefined();
    expect((await execute(gw.url, HealthDocument)).data!.health.status).toBe('OK');
  });
});
