// Load generator, run as a child process of run.mjs (fork, IPC) so that its CPU and event loop are
// apart from the orchestrator's and from a second generator's (the health probe). Every request
// carries a new text (autocannon's setupRequest hook); none repeats within a run.
//
// One autocannon run per message, closed loop (`connections` clients, each sending its next request
// when the last one is answered), in two phases without a pause between them, so that the server is
// measured in steady state:
//   warm-up: at least `warmupSec`, and until every connection has had `connections` answers in all
//            (one full turn of the queue), at most `maxWarmupSec`;
//   window:  `seconds` long; throughput = answers completed in the window / window length, latency
//            percentiles over those answers.
// The parent is told when the window starts and ends ({id, event}) so that it can read /metrics then.
//
// Message in:  { id, target: 'gateway'|'peer', op: 'classify'|'embed'|'health', url, model,
//                seconds, warmupSec, maxWarmupSec, minWarmResponses, connections, part, seed, traffic }
// Message out: { id, event: 'window-start'|'window-end' }, then { id, result } or { id, error }
import http from 'node:http';
import { createRequire } from 'node:module';
import { percentile } from './limit.mjs';
import { loadCorpus, TextStream, WINDOWS } from './traffic.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

export const QUERIES = {
  classify: 'query($t:String!,$m:String){ classify(text:$t, model:$m){ label score } }',
  embed: 'query($t:String!,$m:String){ embed(text:$t, model:$m){ dimensions values } }',
  health: '{ health { status } }',
};

/** Corpora by traffic, loaded once per process. */
const corpora = {};

/** Request shape per target and op: method, path and a body maker (none for GET). */
function shape(target, op, model) {
  if (target === 'gateway') {
    if (op === 'health') return { method: 'POST', path: '/graphql', fixed: JSON.stringify({ query: QUERIES.health }) };
    return { method: 'POST', path: '/graphql', body: (t) => JSON.stringify({ query: QUERIES[op], variables: { t, m: model } }) };
  }
  if (op === 'health') return { method: 'GET', path: '/health' };
  return { method: 'POST', path: op === 'classify' ? '/classify' : '/embed', body: (t) => JSON.stringify({ text: t }) };
}

/** A 2xx answer is good when it carries what was asked (and, for GraphQL, no errors). */
function checker(target, op) {
  if (op === 'health') return (b) => b.includes('OK');
  const want = op === 'classify' ? '"label"' : '"values"';
  if (target === 'gateway') return (b) => !b.includes('"errors"') && b.includes(want);
  return (b) => b.includes(want);
}

async function runOnce(msg, notify) {
  const { target, op, url, model, seconds, connections, part, seed } = msg;
  const warmupMs = (msg.warmupSec ?? 2) * 1000;
  const maxWarmupMs = Math.max(warmupMs, (msg.maxWarmupSec ?? 20) * 1000);
  const minWarm = msg.minWarmResponses ?? connections;
  // A window is extended (up to maxWindowSec) until it holds minWindowResponses answers, so that a
  // slow server still gives percentiles over more than a handful of answers.
  const minWindow = msg.minWindowResponses ?? 30;
  const maxWindowMs = Math.max(seconds, msg.maxWindowSec ?? seconds * 2) * 1000;
  const s = shape(target, op, model);
  let stream;
  const bodies = [];
  if (s.body) {
    const corpus = (corpora[msg.traffic ?? ''] ??= await loadCorpus(msg.traffic));
    stream = new TextStream(corpus.docs, seed, part, WINDOWS[corpus.source]);
    // A head start so that the first seconds do not pay for making texts.
    for (let i = 0; i < Math.min(4000, connections * 50); i++) bodies.push(s.body(stream.next()));
  }
  let next = 0;
  const good = checker(target, op);
  let phase = 'warm';
  let warmAnswers = 0;
  const latencies = [];
  const window = { bad: 0, non2xx: 0, badSample: undefined };
  let windowStart = 0;
  let windowEnd = 0;
  const request = {
    method: s.method,
    path: s.path,
    headers: { 'content-type': 'application/json' },
    ...(s.fixed ? { body: s.fixed } : {}),
    ...(s.body ? { setupRequest: (req) => ({ ...req, body: next < bodies.length ? bodies[next++] : (next++, s.body(stream.next())) }) } : {}),
    onResponse: (status, body) => {
      if (phase !== 'measure') return;
      if (status < 200 || status >= 300) {
        window.non2xx++;
        window.badSample ??= `${status} ${body.slice(0, 300)}`;
      } else if (!good(body)) {
        window.bad++;
        window.badSample ??= body.slice(0, 300);
      }
    },
  };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let instance;
    const check = setInterval(() => {
      const now = performance.now();
      if (phase === 'warm' && ((now - t0 >= warmupMs && warmAnswers >= minWarm) || now - t0 >= maxWarmupMs)) {
        phase = 'measure';
        windowStart = now;
        notify('window-start');
      } else if (phase === 'measure' && ((now - windowStart >= seconds * 1000 && latencies.length >= minWindow) || now - windowStart >= maxWindowMs)) {
        phase = 'done';
        windowEnd = now;
        notify('window-end');
        clearInterval(check);
        instance.stop();
      }
    }, 10);
    instance = autocannon({ url, connections, duration: 3600, timeout: 60, requests: [request], pipelining: 1 }, (err, r) => {
      clearInterval(check);
      if (err) return reject(err);
      const sorted = Float64Array.from(latencies).sort();
      const span = ((windowEnd || performance.now()) - windowStart) / 1000;
      resolve({
        requests: latencies.length,
        seconds: span,
        warmupSeconds: (windowStart - t0) / 1000,
        rps: latencies.length / span,
        p50: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        max: sorted.length ? sorted[sorted.length - 1] : NaN,
        mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN,
        // Over the whole run, warm-up included: any of these is a failure.
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
        windowNon2xx: window.non2xx,
        badBodies: window.bad,
        badSample: window.badSample,
        textsUsed: s.body ? next : 0,
      });
    });
    instance.on('response', (_client, _status, _bytes, ms) => {
      if (phase === 'warm') warmAnswers++;
      else if (phase === 'measure') latencies.push(ms);
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The health probe: `connections` loops, each sending its next health request when the last is
 * answered and `intervalMs` has passed since it was sent, for `seconds`. Unlike autocannon it knows when each request was sent, so a request still
 * unanswered at the end counts with the time it has waited so far (a lower bound, `censored`): a
 * server whose event loop is blocked for longer than the window still gets a p99.
 */
async function probeHealth(msg) {
  const { target, url, seconds, connections } = msg;
  const s = shape(target, 'health');
  const good = checker(target, 'health');
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const { hostname, port } = new URL(url);
  const latencies = [];
  const waiting = new Set();
  let bad = 0;
  let badSample;
  const send = () =>
    new Promise((resolve) => {
      const sentAt = performance.now();
      waiting.add(sentAt);
      const req = http.request({ host: hostname, port, path: s.path, method: s.method, agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          waiting.delete(sentAt);
          latencies.push(performance.now() - sentAt);
          if (res.statusCode < 200 || res.statusCode >= 300 || !good(body)) {
            bad++;
            badSample ??= `${res.statusCode} ${body.slice(0, 200)}`;
          }
          resolve();
        });
      });
      req.on('error', (e) => {
        waiting.delete(sentAt);
        bad++;
        badSample ??= String(e.message);
        resolve();
      });
      req.end(s.fixed);
    });
  const end = performance.now() + seconds * 1000;
  // Paced: each connection sends at most one probe per intervalMs (staggered), so that the probe
  // measures the server without adding noticeable load of its own (unpaced, 2 connections against a
  // fast health query make hundreds of requests per second and slow the measured run down).
  const interval = msg.intervalMs ?? 50;
  const loops = Array.from({ length: connections }, async (_, i) => {
    await sleep((interval * i) / connections);
    while (performance.now() < end) {
      const started = performance.now();
      await send();
      const rest = interval - (performance.now() - started);
      if (rest > 0 && performance.now() + rest < end) await sleep(rest);
    }
  });
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, seconds * 1000 + 50))]);
  const now = performance.now();
  const censored = [...waiting].map((t) => now - t);
  agent.destroy();
  const sorted = Float64Array.from([...latencies, ...censored]).sort();
  return {
    requests: latencies.length,
    censored: censored.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    errors: bad,
    timeouts: 0,
    non2xx: 0,
    badBodies: 0,
    badSample,
  };
}

process.on('message', async (msg) => {
  if (msg?.type === 'exit') process.exit(0);
  try {
    const result = msg.op === 'health' ? await probeHealth(msg) : await runOnce(msg, (event) => process.send({ id: msg.id, event }));
    process.send({ id: msg.id, result });
  } catch (e) {
    process.send({ id: msg.id, error: String(e?.stack ?? e) });
  }
});
process.send({ ready: true });
