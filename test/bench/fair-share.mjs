// Fair share between API keys (`npm run bench:fair`): key A floods the gateway with 40 clients each
// sending 256-text classifyBatch requests back to back; key B sends one classify a second. Prints B's
// latency (p50, p99) and A's throughput with the scheduler's fair share off and on (FAIR_SHARE=off|on
// in the gateway's environment), side by side, each on a fresh gateway process.
//
//   npm run bench:fair                          # 30 s per mode
//   node test/bench/fair-share.mjs --seconds 5  # a smoke test, not for decisions
//
// Options: --seconds N (window per mode, default 30), --clients N (A's clients, 40), --batch N (texts
// per A request, 256), --modes off,on, --model NAME (default: the default classifier), --gateway
// path/to/main.js, --env KEY=VALUE,... (more gateway settings). Rate limits are off and the result
// cache is off (every text is computed); texts are distinct windows of the benchmark corpus.
// A's clients honour retry hints (OVERLOADED, RATE_LIMITED: extensions.retryAfterMs), as the client
// package does. Exit code 1 when B got no answer at all in some mode.
import { randomBytes, createHash } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from './limit.mjs';
import { cpuMonitor, sleep, startGateway } from './procs.mjs';
import { loadCorpus, REPO, TextStream } from './traffic.mjs';

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    clients: { type: 'string', default: '40' },
    batch: { type: 'string', default: '256' },
    modes: { type: 'string', default: 'off,on' },
    model: { type: 'string' },
    gateway: { type: 'string', default: path.join(REPO, 'dist/main.js') },
    env: { type: 'string', default: '' },
  },
});
const seconds = Number(opts.seconds);
const clients = Number(opts.clients);
const batch = Number(opts.batch);
const modes = opts.modes.split(',').map((m) => m.trim()).filter(Boolean);
const extraEnv = Object.fromEntries(opts.env.split(',').filter(Boolean).map((kv) => kv.split('=')));

// Two keys made for this run; the gateway only ever sees their digests.
const key = () => `nlpg_${randomBytes(24).toString('base64url')}`;
const KEY_A = key();
const KEY_B = key();
const sha = (k) => createHash('sha256').update(k).digest('hex');
const API_KEYS = JSON.stringify({ keys: [{ id: 'flood-a', sha256: sha(KEY_A) }, { id: 'polite-b', sha256: sha(KEY_B) }] });

const BATCH_QUERY = 'query($t: [String!]!, $m: String) { classifyBatch(texts: $t, model: $m) { label } }';
const SINGLE_QUERY = 'query($t: String!, $m: String) { classify(text: $t, model: $m) { label } }';

async function post(base, apiKey, query, variables) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json().catch(() => ({}));
  const error = body.errors?.[0]?.extensions;
  return { ok: res.status === 200 && !body.errors, code: error?.code, retryAfterMs: error?.retryAfterMs };
}

async function runMode(mode, docs, part) {
  const gw = await startGateway({
    main: opts.gateway,
    repo: path.join(REPO, 'models'),
    env: { API_KEYS, FAIR_SHARE: mode, CACHE_MAX_ENTRIES: '0', RATE_LIMIT_TOKENS_PER_SECOND: '0', LOG_LEVEL: 'warn', ...extraEnv },
  });
  const streamA = new TextStream(docs, 'fair-a', part);
  const streamB = new TextStream(docs, 'fair-b', part);
  const model = opts.model ?? null;
  try {
    for (let i = 0; i < 3; i++) await post(gw.base, KEY_B, SINGLE_QUERY, { t: streamB.next(), m: model });

    const a = { texts: 0, requests: 0, refused: {} };
    const b = { latencies: [], errors: {}, sent: 0 };
    const cpu = cpuMonitor({ server: [gw.pid], client: [process.pid] });
    const started = performance.now();
    const end = started + seconds * 1000;
    let running = true;

    const flood = Array.from({ length: clients }, async () => {
      while (running) {
        const texts = Array.from({ length: batch }, () => streamA.next());
        const r = await post(gw.base, KEY_A, BATCH_QUERY, { t: texts, m: model }).catch((e) => ({ ok: false, code: e.code ?? 'NETWORK' }));
        if (performance.now() > end) break;
        if (r.ok) {
          a.texts += batch;
          a.requests++;
        } else {
          a.refused[r.code] = (a.refused[r.code] ?? 0) + 1;
          if (typeof r.retryAfterMs === 'number') await sleep(Math.min(r.retryAfterMs, 5_000));
        }
      }
    });

    // B is open-loop: one request a second whatever happened to the previous one.
    const polite = [];
    while (performance.now() < end) {
      const t0 = performance.now();
      b.sent++;
      polite.push(
        post(gw.base, KEY_B, SINGLE_QUERY, { t: streamB.next(), m: model }).then(
          (r) => (r.ok ? b.latencies.push(performance.now() - t0) : (b.errors[r.code] = (b.errors[r.code] ?? 0) + 1)),
          (e) => (b.errors[e.code ?? 'NETWORK'] = (b.errors[e.code ?? 'NETWORK'] ?? 0) + 1),
        ),
      );
      await sleep(Math.max(0, t0 + 1000 - performance.now()));
    }
    const windowS = (performance.now() - started) / 1000;
    running = false;
    await Promise.all(polite);
    const usage = cpu.stop();
    await Promise.all(flood);

    const sorted = b.latencies.sort((x, y) => x - y);
    return {
      mode,
      bP50: percentile(sorted, 0.5),
      bP99: percentile(sorted, 0.99),
      bOk: sorted.length,
      bSent: b.sent,
      bErrors: b.errors,
      aTextsPerS: a.texts / windowS,
      aRequests: a.requests,
      aRefused: a.refused,
      cpu: usage,
    };
  } finally {
    await gw.stop();
  }
}

const { source, docs } = await loadCorpus();
console.error(`fair share: ${clients} clients of key A x ${batch}-text classifyBatch, key B one classify/s, ${seconds} s per mode (${modes.join(', ')}); texts from ${source}`);
const results = [];
for (const [i, mode] of modes.entries()) {
  console.error(`mode FAIR_SHARE=${mode} ...`);
  results.push(await runMode(mode, docs, i));
}

const ms = (x) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a');
const counts = (o) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ') || '0';
console.log(`\n| FAIR_SHARE | B p50 | B p99 | B answered/sent | B errors | A texts/s | A requests ok | A refused | cores: gateway / bench / others |`);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const c = r.cpu ? `${r.cpu.server} / ${r.cpu.client} / ${r.cpu.others}` : 'n/a';
  console.log(`| ${r.mode} | ${ms(r.bP50)} | ${ms(r.bP99)} | ${r.bOk}/${r.bSent} | ${counts(r.bErrors)} | ${r.aTextsPerS.toFixed(0)} | ${r.aRequests} | ${counts(r.aRefused)} | ${c} |`);
}
process.exit(results.every((r) => r.bOk > 0) ? 0 : 1);
