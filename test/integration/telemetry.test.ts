// What operators see, from a real gateway process: the Prometheus scrape (checked by promtool), the
// traces a real OTLP/HTTP receiver gets, the logs, and the drift gauges moving on unusual traffic.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifyDocument, EmbedDocument, ModelsDocument } from '../generated/graphql.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { execute, postRaw } from '../support/graphql-client.js';
import { sample, scrape } from '../support/metrics.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';

const run = promisify(execFile);
const EMAIL = 'jane.doe+tax@example.org';
const PHONE = '+1 415 555 0199';

let gw: GatewayProcess;
let otlp: OtlpReceiver;
let classifier: string;

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  gw = await startGatewayProcess({
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_SERVICE_NAME: 'nlp-gateway-test',
    BATCH_MAX_DELAY_MS: '25',
    DRIFT_WINDOW: '40',
  });
  await gw.waitReady();
  classifier = (await execute(gw.url, ModelsDocument)).data!.models.find((m) => m.task === 'CLASSIFICATION' && m.default)!.name;
});

afterAll(async () => {
  expect(await gw.stop()).toBe(0);
  await otlp.close();
});

const traceparent = (i: number) => {
  const traceId = `4bf92f3577b34da6a3ce929d0e0e${String(4700 + i).padStart(4, '0')}`;
  const parent = `00f067aa0ba902b${i}`;
  return { traceId, parent, header: `00-${traceId}-${parent}-01` };
};

describe('Prometheus metrics', () => {
  it('count the requests made, by operation, model, status and error code, and pass promtool', async () => {
    const before = await scrape(gw.base);
    const ok = 5;
    await Promise.all(Array.from({ length: ok }, (_, i) => execute(gw.url, ClassifyDocument, { text: `metrics check number ${i} for the invoice` })));
    await execute(gw.url, ClassifyDocument, { text: '   ' });
    await execute(gw.url, ClassifyDocument, { text: 'hello', model: 'no-such-model' });
    await execute(gw.url, EmbedDocument, { text: 'metrics for embeddings' });
    const after = await scrape(gw.base);
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);

    expect(delta('nlp_requests_total', { operation: 'classify', status: 'ok', model: classifier })).toBe(ok);
    expect(delta('nlp_requests_total', { operation: 'classify', status: 'error' })).toBe(2);
    expect(delta('nlp_errors_total', { operation: 'classify', code: 'BAD_USER_INPUT' })).toBe(1);
    expect(delta('nlp_errors_total', { operation: 'classify', code: 'MODEL_NOT_FOUND' })).toBe(1);
    expect(delta('nlp_requests_total', { operation: 'embed', status: 'ok' })).toBe(1);
    expect(delta('nlp_request_duration_seconds_count', { operation: 'classify', model: classifier })).toBe(ok);
    expect(delta('nlp_tokenize_duration_seconds_count', { model: classifier })).toBe(ok);
    expect(delta('nlp_queue_duration_seconds_count', { model: classifier })).toBe(ok);
    expect(delta('nlp_input_tokens_count', { model: classifier })).toBe(ok);
    expect(delta('nlp_batch_size_sum', { model: classifier })).toBe(ok);
    expect(delta('nlp_cache_requests_total', { tier: 'memory', result: 'miss' })).toBeGreaterThanOrEqual(ok + 1);
    for (const family of [
      'nlp_inference_duration_seconds_bucket',
      'nlp_queue_depth',
      'nlp_call_cost_seconds',
      'nlp_truncated_total',
      'nlp_circuit_state',
      'nlp_confidence_score',
      'nlp_prediction_share',
      'nlp_unknown_token_ratio',
      'nlp_embedding_norm',
      'nlp_process_cpu_seconds_total',
      'nlp_nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(after, family).toMatch(new RegExp(`^${family}`, 'm'));
    }
    // Labels stay bounded: no label value carries request text.
    expect(after).not.toContain('metrics check number');

    const file = path.join(tmpdir(), `nlp-metrics-${process.pid}.prom`);
    await writeFile(file, after);
    const { stdout, stderr } = await run('sh', ['-c', `promtool check metrics < ${file}`]).catch((e) => e);
    // Clean: every family, the Node process ones included, passes the operators' own lint.
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });
});

describe('OpenTelemetry traces', () => {
  it('export the request spans under the client trace, and one batch span linked to every request it served', async () => {
    const parents = [0, 1, 2, 3].map(traceparent);
    const answers = await Promise.all(
      parents.map((p, i) =>
        execute(gw.url, ClassifyDocument, { text: `traced request ${i}: confirm the shipment for order ${i * 13}` }, { headers: { traceparent: p.header } }),
      ),
    );
    expect(answers.every((a) => a.errors === undefined)).toBe(true);

    const deadline = Date.now() + 10_000;
    const batchOf = () =>
      otlp.spans.find((s) => s.name === `batch ${classifier}` && parents.every((p) => s.links.some((l) => l.traceId === p.traceId)));
    while (!batchOf() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const batch = batchOf();
    expect(batch, 'a batch span linking all four requests').toBeDefined();
    expect(batch!.attributes['nlp.batch.size']).toBe(4);
    expect(batch!.parentSpanId).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(otlp.spans.some((s) => s.name === 'inference' && s.parentSpanId === batch!.spanId && s.traceId === batch!.traceId)).toBe(true);

    for (const p of parents) {
      const inTrace = otlp.spans.filter((s) => s.traceId === p.traceId);
      const server = inTrace.find((s) => s.parentSpanId === p.parent);
      expect(server, `server span continuing ${p.header}`).toBeDefined();
      expect(inTrace.map((s) => s.name)).toEqual(expect.arrayContaining(['tokenize']));
      expect(inTrace.some((s) => /classify/.test(s.name))).toBe(true);
      expect(inTrace.some((s) => s.events.some((e) => e.name === 'cache'))).toBe(true);
    }
  });

  it('never carry e-mail addresses or phone numbers, from variables, inline literals or GET query strings, nor do logs', async () => {
    const text = `Please call me at ${PHONE} or write to ${EMAIL} about the refund.`;
    await execute(gw.url, ClassifyDocument, { text });
    await postRaw(gw.url, { query: `{ classify(text: ${JSON.stringify(text)}) { label } }` });
    await execute(gw.url, ClassifyDocument, { text }, { method: 'GET' });
    await new Promise((r) => setTimeout(r, 1_000));
    const exported = otlp.raw.join('\n');
    expect(exported.length).toBeGreaterThan(0);
    for (const secret of [EMAIL, 'jane.doe', PHONE, '555 0199', '4155550199', 'refund']) {
      expect(exported).not.toContain(secret);
      expect(gw.output()).not.toContain(secret);
    }
    // Logs say what happened without the text: request id, trace id, sizes and a hash.
    const line = gw.logs.filter((l) => l.msg === 'graphql request').at(-1)!;
    expect(line).toMatchObject({ fields: ['classify'], status: 200 });
    expect(typeof line.requestId).toBe('string');
    expect((line.input as { chars: number }).chars).toBe(text.length);
  });
});

describe('drift gauges', () => {
  it('move past their thresholds on traffic unlike the training data', async () => {
    const psi = async (feature: string) => sample(await scrape(gw.base), 'nlp_drift_psi', { model: classifier, feature });
    // Texts in a script the classifier never saw, and much shorter than its mails.
    const foreign = ['Привет, как дела', 'Срочно позвоните мне', 'Это тестовое сообщение', 'Купите сейчас', 'Встреча завтра утром'];
    for (let i = 0; i < 40; i++) await execute(gw.url, ClassifyDocument, { text: `${foreign[i % 5]} ${i}` });
    const metrics = await scrape(gw.base);
    expect(sample(metrics, 'nlp_unknown_token_ratio', { model: classifier })).toBeGreaterThan(0.05);
    expect(await psi('length')).toBeGreaterThan(0.25);
  });
});
