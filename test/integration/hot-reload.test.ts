// Hot reload as deployed: a real gateway process under steady load from several concurrent clients,
// whose model folder changes; SIGHUP, then the file watch. Nothing may fail, the new version must
// answer soon after the signal, a broken folder must leave the serving version as it is and say why.
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifyDocument, HealthDocument, ModelsDocument } from '../generated/graphql.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';
import { sample, scrape } from '../support/metrics.js';
import { addTinyClassifier, addTinyVersion, makeRepo, ONNX_FIXTURES, writeRollout } from '../support/model-repo.js';
import { bertTokenizerJson } from '../support/tiny-tokenizers.js';
import { until } from '../support/wait.js';

/** What the test states: after SIGHUP, the new version answers within this (measured: see the log line). */
const NEW_VERSION_WITHIN_MS = 30_000;
const CLIENTS = 6;

interface Outcome {
  /** When the request was sent, and when its answer came. */
  sent: number;
  at: number;
  version?: string;
  error?: string;
}

/** Clients sending classify requests back to back, each text new, until stopped. */
function steadyLoad(url: string, model = 'spam') {
  const outcomes: Outcome[] = [];
  let running = true;
  let n = 0;
  const clients = Array.from({ length: CLIENTS }, async () => {
    while (running) {
      const i = n++;
      const sent = performance.now();
      try {
        const { status, data, errors } = await execute(url, ClassifyDocument, { text: `the cat sat ${i}`, model });
        const error = status !== 200 || errors ? `${status} ${JSON.stringify(errors)}` : undefined;
        outcomes.push({ sent, at: performance.now(), version: data?.classify.model.version, error });
      } catch (e) {
        outcomes.push({ sent, at: performance.now(), error: String(e) });
      }
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(clients);
    },
  };
}

const logsSince = (gw: GatewayProcess, from: number) => gw.logs.slice(from);

describe('hot reload on SIGHUP, under steady load', () => {
  let gw: GatewayProcess;
  let folder: string;

  beforeAll(async () => {
    const repo = await makeRepo();
    folder = await addTinyClassifier(repo, 'spam', { modelJson: { version: '1.0.0' } });
    gw = await startGatewayProcess({ MODELS_DIR: repo, MODELS_WATCH_INTERVAL_MS: '0', CACHE_MAX_ENTRIES: '0' });
    await gw.waitReady();
  });
  afterAll(async () => {
    expect(await gw.stop()).toBe(0);
  });

  const setVersion = async (version: string, extra: Record<string, unknown> = {}) => {
    const file = path.join(folder, 'model.json');
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...json, version, ...extra }));
  };

  it('loads the new version beside the old, swaps it in, drains the old one: 0 failed requests', async () => {
    const load = steadyLoad(gw.url);
    await until(() => load.outcomes.length >= 200, 'some load before the reload');
    await setVersion('2.0.0');
    const from = gw.logs.length;
    const signalled = performance.now();
    gw.child.kill('SIGHUP');
    await until(() => load.outcomes.some((o) => o.at > signalled && o.version === '2.0.0'), 'an answer from 2.0.0', NEW_VERSION_WITHIN_MS);
    const firstNew = load.outcomes.find((o) => o.at > signalled && o.version === '2.0.0')!.at - signalled;
    await until(() => logsSince(gw, from).some((l) => l.msg === 'model reload applied'), 'the swap');
    // Requests sent once the swap is logged reach the gateway after it: all of them get 2.0.0.
    const swapped = performance.now();
    await until(() => logsSince(gw, from).some((l) => l.msg === 'model version retired'), 'the old version retired');
    await until(() => load.outcomes.filter((o) => o.sent > swapped).length >= 200, 'load after the swap');
    await load.stop();

    expect(load.outcomes.filter((o) => o.error)).toEqual([]);
    expect(firstNew).toBeLessThan(NEW_VERSION_WITHIN_MS);
    // Clients were answered while the new version loaded and warmed up, not held.
    const during = load.outcomes.filter((o) => o.at > signalled && o.at < signalled + firstNew);
    expect(during.length).toBeGreaterThan(0);
    expect(load.outcomes.filter((o) => o.sent > swapped).every((o) => o.version === '2.0.0')).toBe(true);
    const retired = logsSince(gw, from).find((l) => l.msg === 'model version retired')!;
    expect(retired).toMatchObject({ model: 'spam', version: '1.0.0' });
    console.log(
      `hot reload: ${load.outcomes.length} requests from ${CLIENTS} clients, 0 failed; 2.0.0 answered ${Math.round(firstNew)} ms after SIGHUP; ` +
        `${during.length} answered meanwhile; 1.0.0 drained in ${retired['drainMs']} ms`,
    );

    const { data } = await execute(gw.url, ModelsDocument);
    expect(data!.models[0]!.versions.map((v) => [v.version, v.state])).toEqual([
      ['2.0.0', 'SERVING'],
      ['1.0.0', 'RETIRED'],
    ]);
    const metrics = await scrape(gw.base);
    expect(sample(metrics, 'nlp_model_reload_total', { model: 'spam', result: 'applied' })).toBe(1);
    expect(sample(metrics, 'nlp_model_info', { model: 'spam', version: '2.0.0', state: 'SERVING' })).toBe(1);
    // The model's counters add up over the swap (the retired version's are kept).
    expect(sample(metrics, 'nlp_batched_items_total', { model: 'spam' })).toBeGreaterThanOrEqual(load.outcomes.length);
  });

  it('leaves the serving version untouched when the new folder cannot load, and says why (log, metric, health)', async () => {
    await setVersion('3.0.0');
    await rm(path.join(folder, 'tokenizer.json'));
    const load = steadyLoad(gw.url);
    const from = gw.logs.length;
    gw.child.kill('SIGHUP');
    await until(() => logsSince(gw, from).some((l) => l.msg === 'models reloaded'), 'the reload to end');
    await until(() => load.outcomes.length >= 100, 'load after the failed reload');
    await load.stop();
    expect(load.outcomes.filter((o) => o.error)).toEqual([]);
    expect(new Set(load.outcomes.map((o) => o.version))).toEqual(new Set(['2.0.0']));

    const error = logsSince(gw, from).find((l) => l.level === 50)!;
    expect(error).toMatchObject({ msg: 'model reload failed; its serving versions are unchanged', model: 'spam' });
    expect(error['error']).toContain(`model folder ${folder}: missing file tokenizer.json`);
    const metrics = await scrape(gw.base);
    expect(sample(metrics, 'nlp_model_reload_total', { model: 'spam', result: 'failed' })).toBe(1);
    expect(sample(metrics, 'nlp_model_problem', { model: 'spam' })).toBe(1);
    const health = (await execute(gw.url, HealthDocument)).data!.health;
    expect(health.status).toBe('DEGRADED');
    expect(health.models[0]).toMatchObject({ name: 'spam', version: '2.0.0', problem: expect.stringMatching(/^model folder spam: missing file tokenizer\.json/) });
    expect((await fetch(`${gw.base}/readyz`)).status).toBe(200);

    // Fixed: the next reload serves it, and health is OK again.
    await writeFile(path.join(folder, 'tokenizer.json'), JSON.stringify(bertTokenizerJson()));
    const fixedFrom = gw.logs.length;
    gw.child.kill('SIGHUP');
    await until(() => logsSince(gw, fixedFrom).some((l) => l.msg === 'model reload applied'), 'the fixed folder to load');
    expect((await execute(gw.url, ClassifyDocument, { text: 'the cat' })).data!.classify.model.version).toBe('3.0.0');
    expect((await execute(gw.url, HealthDocument)).data!.health.status).toBe('OK');
    expect(sample(await scrape(gw.base), 'nlp_model_problem', { model: 'spam' })).toBe(0);
  });

  it('refuses new weights under an unchanged version (answers are cached per version)', async () => {
    await copyFile(path.join(ONNX_FIXTURES, 'faulty-classifier.onnx'), path.join(folder, 'onnx/model.onnx'));
    const from = gw.logs.length;
    gw.child.kill('SIGHUP');
    await until(() => logsSince(gw, from).some((l) => l.msg === 'models reloaded'), 'the reload to end');
    const error = logsSince(gw, from).find((l) => l.level === 50)!;
    expect(error['error']).toBe(
      `model folder ${folder}: onnx/model.onnx changed but the version is still 3.0.0, and answers are cached per version: give it a new "version" in model.json`,
    );
    expect((await execute(gw.url, ClassifyDocument, { text: 'the cat !' })).data!.classify.model.version).toBe('3.0.0');
  });
});

describe('hot reload by the file watch', () => {
  it('serves an added version folder once it holds still, retires a removed one, and keeps a removed model serving', async () => {
    const repo = await makeRepo();
    await addTinyVersion(repo, 'spam', '1.0.0');
    await addTinyClassifier(repo, 'other');
    const gw = await startGatewayProcess({ MODELS_DIR: repo, MODELS_WATCH_INTERVAL_MS: '200', MODELS_RELOAD_DEBOUNCE_MS: '300' });
    try {
      await gw.waitReady();
      const load = steadyLoad(gw.url);
      await until(() => load.outcomes.length >= 50, 'some load');
      const changed = performance.now();
      await addTinyVersion(repo, 'spam', '1.1.0');
      await writeRollout(repo, 'spam', { serving: '1.1.0' });
      await until(() => load.outcomes.some((o) => o.at > changed && o.version === '1.1.0'), 'an answer from 1.1.0');
      const seen = load.outcomes.find((o) => o.at > changed && o.version === '1.1.0')!.at - changed;
      await rm(path.join(repo, 'spam', '1.0.0'), { recursive: true });
      await until(() => gw.logs.some((l) => l.msg === 'model version retired' && l['version'] === '1.0.0'), '1.0.0 retired');
      await load.stop();
      expect(load.outcomes.filter((o) => o.error)).toEqual([]);
      console.log(`file watch (interval 200 ms, debounce 300 ms): 1.1.0 answered ${Math.round(seen)} ms after its folder was written`);
      const passes = gw.logs.filter((l) => l.msg === 'models reloaded');
      expect(passes.length).toBeGreaterThanOrEqual(2);
      expect(passes.every((l) => l['trigger'] === 'watch')).toBe(true);

      await rm(path.join(repo, 'other'), { recursive: true });
      await until(() => gw.logs.some((l) => l.msg === 'model folder removed'), 'the removal to be seen');
      expect((await execute(gw.url, ClassifyDocument, { text: 'the cat', model: 'other' })).data!.classify.model.name).toBe('other');
      const other = (await execute(gw.url, HealthDocument)).data!.health.models.find((m) => m.name === 'other')!;
      expect(other.problem).toBe('folder other/ was removed; its versions keep serving until the gateway restarts');
    } finally {
      expect(await gw.stop()).toBe(0);
    }
  });
});
