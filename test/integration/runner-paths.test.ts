// The ways a gateway can be set up to run its models give the same answers: worker threads (the
// default), the main thread (INFERENCE_WORKERS=0), tokenizing on the event loop (TOKENIZER_THREADS=0),
// one worker. And a full batch leaves no process warning behind (listener leaks and the like).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifyBatchDocument, EmbedBatchDocument } from '../generated/graphql.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';

const TEXTS = [
  'Congratulations! You have WON a FREE prize. Click here now to claim your CASH reward!!!',
  'Re: agenda for Thursday. Can we move the design review to 3pm?',
  'word '.repeat(400),
  'Ünïcödé àccents, 東京都の天気 and emoji 👩‍👩‍👧',
  'short',
];

const setups: Record<string, Record<string, string>> = {
  'workers (default)': {},
  'main thread, no tokenizer threads': { INFERENCE_WORKERS: '0', TOKENIZER_THREADS: '0' },
  'one worker': { INFERENCE_WORKERS: '1' },
};

const gateways: Record<string, GatewayProcess> = {};

beforeAll(async () => {
  for (const [name, env] of Object.entries(setups)) {
    gateways[name] = await startGatewayProcess({ ...env, CACHE_MAX_ENTRIES: '0' });
    await gateways[name]!.waitReady();
  }
}, 180_000);

afterAll(async () => {
  for (const gw of Object.values(gateways)) expect(await gw.stop()).toBe(0);
});

describe('runner set-ups', () => {
  it('classify and embed alike, single texts and batches', async () => {
    const answers = await Promise.all(
      Object.values(gateways).map(async (gw) => ({
        classes: (await execute(gw.url, ClassifyBatchDocument, { texts: TEXTS })).data!.classifyBatch,
        vectors: (await execute(gw.url, EmbedBatchDocument, { texts: TEXTS })).data!.embedBatch,
      })),
    );
    const [reference, ...others] = answers;
    for (const other of others) {
      other!.classes.forEach((c, i) => {
        expect(c.label).toBe(reference!.classes[i]!.label);
        expect(c.tokens).toBe(reference!.classes[i]!.tokens);
        expect(Math.abs(c.score - reference!.classes[i]!.score)).toBeLessThan(1e-5);
      });
      other!.vectors.forEach((v, i) => {
        const ref = reference!.vectors[i]!.values;
        expect(v.values).toHaveLength(ref.length);
        v.values.forEach((x, j) => expect(Math.abs(x - ref[j]!)).toBeLessThan(1e-5));
      });
    }
  });

  it('answer a batch of 256 texts without any process warning', async () => {
    for (const gw of Object.values(gateways)) {
      const texts = Array.from({ length: 256 }, (_, i) => `message ${i} about invoice ${i * 7} and the meeting on day ${i % 28}`);
      const { data, errors } = await execute(gw.url, ClassifyBatchDocument, { texts });
      expect(errors).toBeUndefined();
      expect(data!.classifyBatch).toHaveLength(256);
      await new Promise((r) => setTimeout(r, 100));
      expect(gw.logs.filter((l) => l.msg === 'node process warning')).toEqual([]);
      expect(gw.output()).not.toMatch(/MaxListenersExceededWarning|Warning:/);
    }
  });
});
