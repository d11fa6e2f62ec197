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
      const early = await execute(gw.url, ClassifyDocument, { text: 'the cat' });
      expect(early.errors?.[0]?.extensions?.code).toBe('MODEL_UNAVAILABLE');

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

describe('shutdown', () => {
  it('on SIGTERM, /readyz goes 503 and the process exits 0', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny');
    const gw = await startGatewayProcess({ MODELS_DIR: repo, SHUTDOWN_GRACE_MS: '2000' });
    await gw.waitReady();
    gw.child.kill('SIGTERM');
    // The signal is handled asynchronously: readyz answers 200 until it is, then 503 (or the socket closes).
    let status: number | undefined = 200;
    const deadline = Date.now() + 5_000;
    while (status === 200 && Date.now() < deadline) {
      status = await fetch(`${gw.base}/readyz`).then((r) => r.status, () => undefined);
    }
    expect(status === 503 || status === undefined).toBe(true);
    expect(await gw.exited).toBe(0);
    expect(gw.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutdown requested', 'draining', 'stopped']));
  });
});
