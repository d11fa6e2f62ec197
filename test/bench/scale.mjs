// Scale-out figures: throughput and latency of 1, 2 and 3 gateway replicas behind nginx
// (deploy/nginx/nlp-gateway.conf) on this machine, and of one replica without nginx (what nginx costs).
// On a 2-core machine replicas share the same cores, so throughput is expected to stay flat (or drop:
// more processes, one more hop): the figure that carries over to a cluster is one replica's rate,
// which `test/bench/hpa-sim.mjs` turns into an autoscaling timeline.
//
//   npm run bench:scale                                  # 20 s per setting, 32 connections
//   npm run bench:scale -- --seconds 3 --replicas 1      # a quick check of the script itself
//   npm run bench:scale -- --out scale.json              # also write the figures as JSON
//
// Load: wrk (Debian), closed loop, each request a classify of a new text (no cache hits: the result
// cache is off), through keep-alive connections. Needs the build (npm run bench:scale builds first).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startNginx } from '../support/nginx.mjs';
import { freePort } from '../support/ports.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    replicas: { type: 'string', default: '1,2,3' },
    direct: { type: 'boolean', default: true },
    out: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const REPLICAS = values.replicas.split(',').map(Number);
const WRK = process.env.WRK ?? '/usr/bin/wrk';

// A wrk script: POST classify with a text no earlier request had; latency percentiles at the end.
const WRK_SCRIPT = `
local n = 0
local thread_id = 0
function setup(thread) thread_id = thread_id + 1; thread:set("tid", thread_id) end
function init(args) n = 0 end
request = function()
  n = n + 1
  local text = "Message " .. tid .. "-" .. n .. ": your invoice " .. n .. " is attached, reply by Friday to confirm the order."
  local body = '{"query":"query($t: String!){ classify(text: $t) { label } }","variables":{"t":"' .. text .. '"}}'
  return wrk.format("POST", "/graphql", { ["content-type"] = "application/json" }, body)
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\":%d,\\"seconds\\":%f,\\"non2xx\\":%d,\\"errors\\":%d,\\"p50\\":%f,\\"p90\\":%f,\\"p99\\":%f}\\n",
    summary.requests, summary.duration / 1e6, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3))
end
`;

async function startGateway(port) {
  const child = spawn(process.execPath, ['--import', './dist/instrumentation.js', 'dist/main.js'], {
    cwd: REPO,
    // As a container runs it: no NODE_ENV (an empty value would be a configuration mistake).
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_ENV')), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', CACHE_MAX_ENTRIES: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 180_000;
  while ((await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)) !== 200) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`gateway on ${port} did not become ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function wrk(url, seconds, script) {
  const out = execFileSync(WRK, ['-t', '2', '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--timeout', '30s', '-s', script, url], { encoding: 'utf8' });
  return JSON.parse(/^JSON (.*)$/m.exec(out)[1]);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'nlp-scale-'));
const script = path.join(dir, 'classify.lua');
writeFileSync(script, WRK_SCRIPT);
const settings = [...(values.direct ? [{ replicas: 1, nginx: false }] : []), ...REPLICAS.map((replicas) => ({ replicas, nginx: true }))];
const results = [];
try {
  for (const setting of settings) {
    const ports = await Promise.all(Array.from({ length: setting.replicas }, () => freePort()));
    const gateways = await Promise.all(ports.map(startGateway));
    const nginx = setting.nginx ? await startNginx({ port: await freePort(), upstreams: ports }) : undefined;
    const url = nginx?.url ?? `http://127.0.0.1:${ports[0]}/graphql`;
    try {
      if (Number(values.warmup) > 0) wrk(url, Number(values.warmup), script);
      const load = os.loadavg()[0];
      const r = wrk(url, SECONDS, script);
      const row = {
        replicas: setting.replicas,
        via: setting.nginx ? 'nginx' : 'direct',
        rps: Math.round(r.requests / r.seconds),
        p50_ms: Math.round(r.p50 * 10) / 10,
        p99_ms: Math.round(r.p99 * 10) / 10,
        failed: r.non2xx + r.errors,
        loadavg_before: Math.round(load * 100) / 100,
      };
      results.push(row);
      console.log(JSON.stringify(row));
    } finally {
      await nginx?.stop();
      await Promise.all(gateways.map((g) => g.stop()));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n${os.availableParallelism()} cores, ${CONNECTIONS} connections, ${SECONDS} s per setting, classify (spam-bert), cache off\n`);
console.log('| replicas | via | req/s | p50 ms | p99 ms | failed |');
console.log('|---|---|---|---|---|---|');
for (const r of results) console.log(`| ${r.replicas} | ${r.via} | ${r.rps} | ${r.p50_ms} | ${r.p99_ms} | ${r.failed} |`);
const perReplica = results.find((r) => r.replicas === 1 && r.via === 'nginx') ?? results[0];
console.log(`\nper-replica service rate for test/bench/hpa-sim.mjs: --rate ${perReplica.rps}`);
if (values.out) {
  writeFileSync(values.out, `${JSON.stringify({ date: new Date().toISOString(), cores: os.availableParallelism(), connections: CONNECTIONS, seconds: SECONDS, results }, null, 2)}\n`);
}
