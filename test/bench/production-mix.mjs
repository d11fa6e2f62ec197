// The production mix (resilience issue): at c=64, 30% of requests repeat one of the last 1,000 texts
// sent, the rest are new; the gateway (with its result cache) against the transformers.js peer (which
// has none), one server at a time, same texts in the same order. Prints throughput, p50/p99, the
// gateway's cache hit share, and the ratios against the targets (>= 2x throughput, p99 <= half).
//
//   node test/bench/production-mix.mjs [--model spam-bert] [--seconds 10] [--connections 64]
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { percentile } from './limit.mjs';
// Same query as the main bench (load.mjs runs as a forked child, so it is not imported here).
const QUERIES = { classify: 'query($t:String!,$m:String){ classify(text:$t, model:$m){ label score } }' };
import { singleModelRepo, startGateway, startPeer } from './procs.mjs';
import { loadCorpus, prng, REPO, TextStream } from './traffic.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'spam-bert' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    repeat: { type: 'string', default: '0.3' },
    recent: { type: 'string', default: '1000' },
  },
});
const seconds = Number(args.seconds);
const connections = Number(args.connections);
const repeatShare = Number(args.repeat);
const recentSize = Number(args.recent);
const folder = path.join(REPO, 'models', args.model);

/** The request sequence: new texts, and with probability `repeatShare` one of the last `recentSize`. */
function mix(docs, seed) {
  const fresh = new TextStream(docs, seed, 7);
  const rnd = prng(`${seed}/mix`);
  const recent = [];
  return () => {
    if (recent.length > 0 && rnd() < repeatShare) return recent[Math.floor(rnd() * recent.length)];
    const text = fresh.next();
    recent.push(text);
    if (recent.length > recentSize) recent.shift();
    return text;
  };
}

async function load(url, body) {
  const latencies = [];
  let bad = 0;
  const result = await new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        pipelining: 1,
        requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: body() }) }],
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      latencies.push(ms);
      if (status !== 200) bad++;
    });
  });
  const sorted = Float64Array.from(latencies).sort();
  return { rps: latencies.length / seconds, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), failed: bad + result.errors + result.timeouts };
}

const { docs } = await loadCorpus();
const scrape = async (base) => (await fetch(`${base}/metrics`)).text();
const { repo } = singleModelRepo(folder);
const rows = {};

const gateway = await startGateway({ main: path.join(REPO, 'dist/main.js'), repo, env: { LOG_LEVEL: 'warn' } });
try {
  const next = mix(docs, 'production-mix');
  const before = await scrape(gateway.base);
  rows.gateway = await load(`${gateway.base}/graphql`, () => JSON.stringify({ query: QUERIES.classify, variables: { t: next() } }));
  const after = await scrape(gateway.base);
  const hits = (text) => [...text.matchAll(/^nlp_cache_requests_total\{tier="memory",result="hit"\} (\S+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
  const lookups = (text) => [...text.matchAll(/^nlp_cache_requests_total\{tier="memory",result="\w+"\} (\S+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
  rows.gateway.hitShare = (hits(after) - hits(before)) / Math.max(1, lookups(after) - lookups(before));
} finally {
  await gateway.stop();
}

const peer = await startPeer({ folder });
try {
  const next = mix(docs, 'production-mix');
  rows.peer = await load(`${peer.base}/classify`, () => JSON.stringify({ text: next() }));
} finally {
  await peer.stop();
}

const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
console.log(`\n== production mix: ${args.model}, c=${connections}, ${seconds} s, ${repeatShare * 100}% repeats of the last ${recentSize} texts ==`);
console.log('            req/s   p50 ms   p99 ms  cache hits  failed');
for (const [name, r] of Object.entries(rows)) {
  console.log(`${name.padEnd(10)} ${f(r.rps).padStart(7)} ${f(r.p50).padStart(8)} ${f(r.p99).padStart(8)} ${(r.hitShare === undefined ? '-' : `${f(r.hitShare * 100)}%`).padStart(11)} ${String(r.failed).padStart(7)}`);
}
const throughput = rows.gateway.rps / rows.peer.rps;
const p99 = rows.gateway.p99 / rows.peer.p99;
console.log(`ratios: gateway/peer throughput ${f(throughput, 2)}x, p99 ${f(p99, 2)}x`);
console.log(`  ${throughput >= 2 ? 'PASS' : 'MISS'}  throughput >= 2x peer`);
console.log(`  ${p99 <= 0.5 ? 'PASS' : 'MISS'}  p99 <= half of peer's`);
console.log(`  ${rows.gateway.failed === 0 ? 'PASS' : 'MISS'}  no failed requests`);
