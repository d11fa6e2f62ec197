// Start-up, readiness and shutdown of the real process, on tiny model repositories.
import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClassifyDocument } from '../generated/graphql.js';
import { startGatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';
import { addTinyClassifier, makeRepo } from '../support/model-repo.js';

/** Every line of the output is a JSON object (no stack traces or stray text). */
function jsonLinesOnly(output: string): boolean {
  return output
    .split('\n')
    .filter(Boolean)
    .every((l) => {
      try {
        return typeof JSON.parse(l) === 'object';
      } catch {
        return false;
      }
    });
}

describe('readiness', () => {
  it('/readyz answers 503 while a model loads and 200 once it is warmed up; /healthz answers throughout', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    // The weights file as a FIFO: onnxruntime's load blocks on it until the test writes it, so the
    // loading window is held open for as long as the test needs, with no timing guesswork. (The JSON
    // files are read before the gateway listens, with the other checks of the folders' files; one
    // worker, so that the weights are read once.)
    const blocking = path.join(folder, 'onnx/model.onnx');
    const weights = await readFile(blocking);
    await rm(blocking);
    execFileSync('mkfifo', [blocking]);
    await writeFile(path.join(folder, 'model.json'), JSON.stringify({ task: 'classification', version: '1.2.3', labels: ['ham', 'spam'], maxTokens: 16 }));

    const gw = await startGatewayProcess({ MODELS_DIR: repo, INFERENCE_WORKERS: '1' });
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

      await writeFile(blocking, weights);
      await gw.waitReady(20_000);
      const ready = await fetch(`${gw.base}/readyz`);
      expect(ready.status).toBe(200);
      const { data } = await execute(gw.url, ClassifyDocument, { text: 'the cat' });
      expect(data!.classify.model).toEqual({ name: 'tiny', version: '1.2.3' });
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });

  it('weights that do not load stop start-up with exit code 3 and one JSON line naming folder and problem, no stack', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    await writeFile(path.join(folder, 'onnx/model.onnx'), 'garbage');
    const gw = await startGatewayProcess({ MODELS_DIR: repo });
    expect(await gw.exited).toBe(3);
    const fatal = gw.logs.find((l) => l.msg === 'start-up failed')!;
    expect(fatal).toMatchObject({ level: 60, folder, error: expect.stringMatching(/^model folder .*: onnx\/model\.onnx cannot be loaded by onnxruntime/) });
    expect(JSON.stringify(fatal)).not.toMatch(/stack|\bat /);
    expect(jsonLinesOnly(gw.output())).toBe(true);
  });

  it('a folder whose files are wrong stops start-up before it listens (exit code 3)', async () => {
    const repo = await makeRepo();
    const folder = await addTinyClassifier(repo, 'tiny');
    await rm(path.join(folder, 'tokenizer.json'));
    const output = await startGatewayProcess({ MODELS_DIR: repo }).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(output).toMatch(/^gateway exited with 3 before listening/);
    const lines = output.split('\n').slice(1).filter(Boolean);
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['start-up failed']);
    expect(JSON.parse(lines[0]!).error).toBe(
      `model folder ${folder}: missing file tokenizer.json: write it with AutoTokenizer.from_pretrained(<model>).save_pretrained(<folder>) in Python, which saves the fast tokenizer`,
    );
  });

  it('a bad configuration value stops start-up with exit code 2 naming the variable', async () => {
    await expect(startGatewayProcess({ PORT: 'eighty' })).rejects.toThrow(/exited with 2[\s\S]*PORT/);
  });

  it('an empty value is a mistake too: PORT= stops start-up naming PORT, as one JSON line', async () => {
    const output = await startGatewayProcess({ PORT: '' }).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(output).toMatch(/^gateway exited with 2 before listening/);
    const [line, ...rest] = output.split('\n').slice(1).filter(Boolean);
    expect(rest).toEqual([]);
    expect(JSON.parse(line!)).toMatchObject({ level: 60, msg: 'invalid configuration: PORT is empty: unset it for its default, or give a value', problems: [{ variable: 'PORT' }] });
  });

  it('an address in use stops start-up with exit code 4 and one JSON line, no stack', async () => {
    const repo = await makeRepo();
    await addTinyClassifier(repo, 'tiny');
    const first = await startGatewayProcess({ MODELS_DIR: repo });
    try {
      const output = await startGatewayProcess({ MODELS_DIR: repo, PORT: String(first.port) }).then(
        () => '',
        (e: Error) => e.message,
      );
      expect(output).toMatch(/^gateway exited with 4 before listening/);
      const lines = output.split('\n').slice(1).filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 60, msg: 'start-up failed', code: 'EADDRINUSE', port: first.port, error: `cannot listen on 127.0.0.1:${first.port}: address already in use` });
      expect(lines[0]).not.toMatch(/stack/);
    } finally {
      await first.stop();
    }
  });
});


