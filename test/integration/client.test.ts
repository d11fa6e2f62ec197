// The typed client package as a partner uses it (`import ... from 'nlp-gateway/client'`, the built
// package through package.json exports) against real gateway processes, and its checked example.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient, ModelsDocument, type ClassifyQuery, type RetryEvent } from 'nlp-gateway/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure } from '../support/client-failure.js';
import { REPO, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { addTinyClassifier, makeRepo } from '../support/model-repo.js';

const run = promisify(execFile);

describe('the client against the built-in models', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGatewayProcess();
    await gw.waitReady();
  });
  afterAll(() => gw?.stop());

  it('calls every public operation, typed', async () => {
    const client = createClient({ url: gw.url, apiKey: 'partner-key' });
    const spam: ClassifyQuery['classify'] = await client.classify('WIN a FREE cruise! Click now to claim your prize.');
    expect(spam).toMatchObject({ label: 'spam', model: { name: 'spam-bert' }, fallback: false });
    expect(spam.scores.map((s) => s.label).sort()).toEqual(['ham', 'spam']);

    const [ham, spam2] = await client.classifyBatch(['Can you review my patch to the mailing list before Friday?', 'Claim your FREE prize now!!!']);
    expect([ham!.label, spam2!.label]).toEqual(['ham', 'spam']);

    const one = await client.embed('The cat sat on the mat.');
    expect(one.dimensions).toBe(100);
    expect(one.values).toHaveLength(100);
    const raw = await client.embed('The cat sat on the mat.', { normalize: false });
    expect(Math.hypot(...raw.values)).not.toBeCloseTo(1, 3);
    const pair = await client.embedBatch(['a cat', 'a dog'], { model: 'glove-embed-100d' });
    expect(pair.map((e) => e.model.name)).toEqual(['glove-embed-100d', 'glove-embed-100d']);

    const { models } = await client.request(ModelsDocument);
    expect(models.map((m) => m.name).sort()).toEqual(['glove-embed-100d', 'spam-bert', 'spam-linear']);
    expect((await client.models()).find((m) => m.default && m.task === 'CLASSIFICATION')?.name).toBe('spam-bert');
    const health = await client.health();
    expect(health.status).toBe('OK');
    expect(health.models.every((m) => m.ready)).toBe(true);
  });

  it('rejects with typed codes, not retried when retrying cannot help', async () => {
    const retries: RetryEvent[] = [];
    const client = createClient({ url: gw.url, onRetry: (e) => retries.push(e) });
    const notFound = await failure(client.classify('hello', { model: 'no-such-model' }));
    expect(notFound.code).toBe('MODEL_NOT_FOUND');
    expect(notFound.message).toContain('no-such-model');
    expect(notFound.status).toBe(200);
    const wrongTask = await failure(client.embed('hello', { model: 'spam-bert' }));
    expect(wrongTask.code).toBe('WRONG_TASK');
    expect(wrongTask.message).toBe('model "spam-bert" is a classification model; this operation needs an embedding model');
    expect((await failure(client.classify('   '))).code).toBe('BAD_USER_INPUT');
    expect(retries).toEqual([]);

    const wrongUrl = await failure(createClient({ url: `${gw.base}/graphq` }).health());
    expect(wrongUrl).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('the example runs as a partner would run it', async () => {
    const { stdout } = await run(process.execPath, [path.join(REPO, 'client/example/classify.mjs')], {
      env: { ...process.env, NLP_GATEWAY_URL: gw.url },
    });
    expect(stdout).toMatch(/^classify: spam \(0\.\d{3}\) by spam-bert 1\.0\.0$/m);
    expect(stdout).toMatch(/^embedBatch: 100 dimensions, cosine similarity 0\.\d{3}$/m);
    expect(stdout).toMatch(/^health: OK, models glove-embed-100d=ready spam-bert=ready spam-linear=ready$/m);
    expect(stdout).toMatch(/^error: MODEL_NOT_FOUND: model "no-such-model" does not exist/m);
  });
});

describe('the client when the gateway is overloaded', () => {
  it('retries OVERLOADED with backoff, then gives the typed error with the attempts made', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny');
    // One text may wait per model: the second text of a batch is refused at once, every time.
    const gw = await startGatewayProcess({ MODELS_DIR: repo, BATCH_MAX_QUEUE: '1', CACHE_MAX_ENTRIES: '0' });
    try {
      await gw.waitReady();
      const retries: RetryEvent[] = [];
      const client = createClient({ url: gw.url, retries: 2, backoffMs: 20, onRetry: (e) => retries.push(e) });
      const error = await failure(client.classifyBatch(['the cat', 'the dog sat']));
      expect(error.code).toBe('OVERLOADED');
      expect(error.attempts).toBe(3);
      expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
      expect(retries.every((r) => r.error.code === 'OVERLOADED' && r.delayMs > 0)).toBe(true);
      // One text at a time fits.
      expect((await client.classify('the cat')).model.name).toBe('tiny');
    } finally {
      await gw.stop();
    }
  });
});
