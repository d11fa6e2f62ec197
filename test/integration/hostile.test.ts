// The hostile corpus against a real gateway process: every request of test/fixtures/hostile/corpus.json
// must get its status and code within its time bound, while a health probe and a legitimate client
// run beside it; no request may stall the event loop over 100 ms, the process stays up, its memory
// bounded, and nothing a client sent reaches the logs as a server error or as text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassifyBatchDocument, ClassifyDocument, EmbedDocument } from '../generated/graphql.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { execute } from '../support/graphql-client.js';
import { DEFAULT_MAX_MS, loadCorpus, mismatch, send, type CorpusRequest, type Outcome } from '../support/hostile-corpus.js';
import { sample, scrape } from '../support/metrics.js';
import { eventLoopStallMs, peakRssBytes, startHealthProbe, type HealthReport } from '../support/probes.js';

/** The bound on one request's hold on the event loop. */
const MAX_STALL_MS = 100;
/**
 * The stall is wall-clock time, and on a shared machine the gateway can be descheduled for longer
 * than that with no fault of its own. A request that stalls over the bound is therefore sent again,
 * alone, this many times (its document made new to every cache by a comment, the result cache off):
 * a stall of its own comes back every time; the machine's does not.
 */
const STALL_CONFIRMATIONS = 2;
/** Peak resident memory allowed over the whole run (idle: about 330 MiB with the default models). */
const MAX_RSS_BYTES = 1024 * 1024 * 1024;
const ALLOWED_ORIGIN = 'https://app.example.com';
/** Personal data some requests carry (operation names, request ids): never in the logs. */
const SECRETS = ['jane.doe@example.com', 'jane.doe', '4155550199'];

const corpus = loadCorpus();
let gw: GatewayProcess;
const outcomes: { request: CorpusRequest; outcome: Outcome; stallMs: number; problem?: string }[] = [];
let health: HealthReport;
const legit = { sent: 0, failed: [] as string[] };

beforeAll(async () => {
  // The result cache off: every text is computed, and a request sent again costs what it cost first.
  gw = await startGatewayProcess({ CORS_ORIGINS: ALLOWED_ORIGIN, LOG_LEVEL: 'debug', CACHE_MAX_ENTRIES: '0' });
  await gw.waitReady();
  // Warm up every path (first inferences, JIT) so that the stall figures are the requests' own.
  for (let i = 0; i < 5; i++) {
    await execute(gw.url, ClassifyDocument, { text: `warm up ${i}` });
    await execute(gw.url, EmbedDocument, { text: `warm up ${i}` });
    await execute(gw.url, ClassifyBatchDocument, { texts: Array.from({ length: 32 }, (_, j) => `warm up ${i} ${j} ${'word '.repeat(j * 10)}`) });
  }
}, 120_000);

afterAll(async () => {
  if (gw) expect(await gw.stop()).toBe(0);
});

describe('hostile corpus', () => {
  it('holds at least 200 requests, each with an expected outcome', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(new Set(corpus.map((r) => r.name)).size).toBe(corpus.length);
  });

  it('answers every request with its status and code, without stalling, while health and a legitimate client keep working', async () => {
    const probe = startHealthProbe(gw.base);
    let running = true;
    const client = (async () => {
      while (running) {
        legit.sent++;
        const text = `Re: agenda item ${legit.sent} for the review on Thursday`;
        const r = await execute(gw.url, ClassifyDocument, { text }).catch((e: Error) => ({ status: 0, errors: [{ message: e.message }], data: undefined }));
        if (r.status !== 200 || r.errors || !r.data?.classify.label) legit.failed.push(`${r.status} ${JSON.stringify(r.errors)}`);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();

    /** Sends one request and returns its outcome and the longest stall of the gateway meanwhile. */
    const attempt = async (request: CorpusRequest, variant = 0) => {
      await eventLoopStallMs(gw.base); // resets the gateway's maximum
      const outcome = await send(gw.port, request, (request.maxMs ?? DEFAULT_MAX_MS) * 3, variant);
      // Requests whose client left are still being wound up by the gateway; let them finish first.
      if (request.kind?.startsWith('abort')) await new Promise((r) => setTimeout(r, 300));
      return { outcome, stallMs: await eventLoopStallMs(gw.base) };
    };
    for (const request of corpus) {
      const { outcome, stallMs } = await attempt(request);
      outcomes.push({ request, outcome, stallMs, problem: mismatch(request, outcome) });
    }
    const first = outcomes.reduce((a, b) => (b.stallMs > a.stallMs ? b : a));
    const firstPassWorstStall = `${Math.round(first.stallMs)} ms (${first.request.name})`;
    const confirmed: string[] = [];
    for (const o of outcomes.filter((x) => x.stallMs > MAX_STALL_MS)) {
      const stalls = [o.stallMs];
      for (let i = 1; i <= STALL_CONFIRMATIONS && Math.min(...stalls) > MAX_STALL_MS; i++) stalls.push((await attempt(o.request, i)).stallMs);
      o.stallMs = Math.min(...stalls);
      confirmed.push(`${o.request.name}: ${stalls.map(Math.round).join(', ')} ms`);
    }
    running = false;
    await client;
    health = await probe.stop();

    const codes = new Map<string, number>();
    for (const { outcome } of outcomes) for (const c of outcome.codes.length ? [outcome.codes[0]!] : [`HTTP ${outcome.status ?? 'none'}`]) codes.set(c, (codes.get(c) ?? 0) + 1);
    const worst = outcomes.reduce((a, b) => (b.stallMs > a.stallMs ? b : a));
    const report = {
      requests: outcomes.length,
      codes: Object.fromEntries([...codes].sort((a, b) => b[1] - a[1])),
      firstPassWorstStall,
      sentAgain: confirmed,
      worstStall: `${Math.round(worst.stallMs)} ms (${worst.request.name})`,
      over40ms: outcomes.filter((o) => o.stallMs > 40).map((o) => `${Math.round(o.stallMs)} ${o.request.name}`),
      peakRssMiB: Math.round(peakRssBytes(gw.child.pid!) / 2 ** 20),
      health,
      legitimate: { sent: legit.sent, failed: legit.failed.length },
    };
    console.log(`hostile corpus: ${JSON.stringify(report, null, 1)}`);

    expect(outcomes.filter((o) => o.problem).map((o) => `${o.request.name}: ${o.problem}`)).toEqual([]);
    expect(outcomes.filter((o) => o.stallMs > MAX_STALL_MS).map((o) => `${o.request.name}: ${Math.round(o.stallMs)} ms`)).toEqual([]);
    expect(health.failures).toBe(0);
    expect(legit.failed).toEqual([]);
    expect(legit.sent).toBeGreaterThan(20);
  }, 600_000);

  it('stays up with bounded memory', async () => {
    expect(gw.child.exitCode).toBeNull();
    expect((await fetch(`${gw.base}/healthz`)).status).toBe(200);
    expect(peakRssBytes(gw.child.pid!)).toBeLessThan(MAX_RSS_BYTES);
  });

  it('logs nothing a client caused as a server error, only JSON lines, and no client text', async () => {
    const output = gw.output();
    const lines = output.split('\n').filter(Boolean);
    expect(lines.filter((l) => !l.startsWith('{'))).toEqual([]);
    expect(gw.logs.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
    for (const secret of SECRETS) expect(output).not.toContain(secret);
    expect(output).not.toContain('free money');
  });

  it('logs and counts clients that went away apart, at debug', async () => {
    const metrics = await scrape(gw.base);
    const counted = sample(metrics, 'nlp_errors_total', { code: 'CLIENT_CLOSED_REQUEST' });
    const gone = () => gw.logs.filter((l) => Array.isArray(l.errors) && (l.errors as string[]).includes('CLIENT_CLOSED_REQUEST'));
    for (let i = 0; i < 50 && gone().length < counted; i++) await new Promise((r) => setTimeout(r, 100)); // logs are asynchronous
    expect(gone().length).toBeGreaterThanOrEqual(3);
    expect(gone().every((l) => l.level === 20)).toBe(true);
    expect(counted).toBe(gone().length);
    expect(sample(metrics, 'nlp_errors_total', { code: 'INTERNAL_SERVER_ERROR' })).toBe(0);
  });
});
