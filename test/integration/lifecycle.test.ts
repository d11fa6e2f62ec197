// Start-up, readiness and shutdown of the real process, on tiny model repositories.
import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClassifyDocument } from '../generated/graphql.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';
import { addTinyClassifier, makeRepo } from '../support/model-repo.js';

describe('readiness', () => {
  it('/readyz answers 503 while a model loads and 200 once it is warmed up; /healthz answers throughout', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    // model.json as a FIFO: loading blocks on it until the test writes it, so the loading window is
    // held open for as long as the test needs, with no timing guesswork.
    const modelJson = path.join(folder, 'model.json');
    await rm(modelJson);
    execFileSync('mkfifo', [modelJson]);

    const gw = await startGatewayProcess({ MODELS_DIR: repo });
    try {
      const loading = await fetch(`${gw.base}/readyz`);
      expect(loading.status).toBe(503);
      expect(await loading.json()).toMatchObject({ status: 'loading', models: [{ name: 'tiny', ready: false }] });
      expect((await fetch(`${gw.base}/healthz`)).status).toBe(200);
      // 503 with Retry-After, never 200 with an error: a load balancer sends the request elsewhere.
      const early = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ classify(text: "the cat") { label } }' }),
      });
      expect(early.status).toBe(503);
      expect(early.headers.get('retry-after')).toBe('1');
      expect(((await early.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('MODEL_UNAVAILABLE');

      await writeFile(modelJson, JSON.stringify({ task: 'classification', version: '1.2.3', labels: ['ham', 'spam'], maxTokens: 16 }));
      await gw.waitReady(20_000);
      const ready = await fetch(`${gw.base}/readyz`);
      expect(ready.status).toBe(200);
      const { data } = await execute(gw.url, ClassifyDocument, { text: 'the cat' });
      expect(data!.classify.model).toEqual({ name: 'tiny', version: '1.2.3' });
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('a broken model folder stops start-up with exit code 1 and a log naming folder and problem', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    await writeFile(path.join(folder, 'onnx/model.onnx'), 'garbage');
    const gw = await startGatewayProcess({ MODELS_DIR: repo });
    expect(await gw.exited).toBe(1);
    const fatal = gw.logs.find((l) => l.msg === 'start-up failed');
    expect(JSON.stringify(fatal)).toContain(folder);
    expect(JSON.stringify(fatal)).toMatch(/cannot be loaded by onnxruntime/);
  });

  it('a bad configuration value stops start-up with exit code 2 naming the variable', async () => {
    await expect(startGatewayProcess({ PORT: 'eighty' })).rejects.toThrow(/exited with 2[\s\S]*PORT/);
  });
});

