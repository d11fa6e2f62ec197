// The benchmark of the gateway (npm run bench). See README.md beside this file for what each figure
// means. Usage:
//
//   node test/bench/run.mjs [--quick] [--models spam-bert,minilm-standin,glove-embed-100d] [--traffic mail,generated,short]
//                           [--concurrency 1,16,64] [--seconds 8] [--warmup 2] [--limit-seconds 5]
//                           [--no-peer] [--profile] [--explore | --explore-only] [--configs 0,1,8]
//                           [--gateway dist/main.js | --snapshot] [--env KEY=VALUE,...] [--models-dir models]
//                           [--out test/bench/.cache/last-run.json] [--seed bench] [--nice -10]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureStandin, STANDIN_NAME, verifyStandin } from './make-standin.mjs';
import { formatSummary, summarise } from './profile.mjs';
import { cpuMonitor, metricDelta, scrape, singleModelRepo, sleep, startGateway, startLoadGen, startPeer } from './procs.mjs';
import { availableTraffics, CACHE, PARTS, REPO, TRAFFICS } from './traffic.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const DEFAULT_MODELS = ['spam-bert', STANDIN_NAME, 'glove-embed-100d'];

// ---------------------------------------------------------------------------------------------
// Options.

function parseArgs(argv) {
  const o = {
    quick: false,
    models: undefined,
    concurrency: [1, 16, 64],
    seconds: 8,
    warmup: 2,
    maxWarmup: 10,
    limitSeconds: 5,
    peer: true,
    profile: false,
    explore: false,
    exploreOnly: false,
    gateway: path.join(REPO, 'dist/main.js'),
    env: {},
    modelsDir: path.join(REPO, 'models'),
    out: path.join(CACHE, 'last-run.json'),
    seed: 'bench',
  };
  const set = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--models': o.models = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--traffic': o.traffics = val().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--concurrency': o.concurrency = val().split(',').map(Number); break;
      case '--seconds': set.seconds = Number(val()); break;
      case '--warmup': set.warmup = Number(val()); break;
      case '--limit-seconds': set.limitSeconds = Number(val()); break;
      case '--no-peer': o.peer = false; break;
      case '--profile': o.profile = true; break;
      case '--explore': o.explore = true; break;
      case '--explore-only': o.explore = true; o.exploreOnly = true; break;
      case '--configs': o.configs = val().split(',').map(Number); break;
      case '--gateway': o.gateway = path.resolve(val()); break;
      case '--snapshot': o.snapshot = true; break;
      case '--env':
        for (const kv of val().split(',').filter(Boolean)) {
          const [k, ...v] = kv.split('=');
          o.env[k.trim()] = v.join('=').trim();
        }
        break;
      case '--models-dir': o.modelsDir = path.resolve(val()); break;
      case '--out': o.out = path.resolve(val()); break;
      case '--seed': o.seed = val(); break;
      case '--nice': o.nice = Number(val()); break;
      case '-h':
      case '--help':
        console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(0, 8).join('\n'));
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  if (o.quick) Object.assign(o, { seconds: 3, warmup: 1, maxWarmup: 6, limitSeconds: 2 });
  Object.assign(o, set);
  if (o.concurrency.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('--concurrency takes positive integers');
  for (const t of o.traffics ?? []) if (!TRAFFICS.includes(t)) throw new Error(`--traffic takes ${TRAFFICS.join(', ')}; got ${t}`);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Models.

/** Resolves names (or folder paths) to model folders; missing ones are reported, not fatal. */
async function resolveModels(names, modelsDir) {
  const found = [];
  const missing = [];
  for (const name of names) {
    let folder;
    if (name === STANDIN_NAME) folder = await ensureStandin({ log: (m) => progress(m) });
    else if (name.includes('/') && existsSync(name)) folder = path.resolve(name);
    else folder = path.join(modelsDir, name);
    if (!existsSync(path.join(folder, 'model.json')) || !existsSync(path.join(folder, 'onnx/model.onnx'))) {
      missing.push({ name, folder: path.relative(REPO, folder), reason: 'no model.json or onnx/model.onnx' });
      continue;
    }
    const spec = JSON.parse(readFileSync(path.join(folder, 'model.json'), 'utf8'));
    const config = existsSync(path.join(folder, 'config.json')) ? JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8')) : {};
    found.push({ name: path.basename(folder), folder, spec, config });
  }
  return { found, missing };
}

// ---------------------------------------------------------------------------------------------
// Measurements.

let partCounter = 0;
/** A text family no other run of this benchmark uses (see traffic.mjs). */
const nextPart = () => {
  if (partCounter >= PARTS) progress(`warning: more than ${PARTS} runs; text families repeat across servers (never within one)`);
  return partCounter++ % PARTS;
};

function progress(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function runLimit(folder, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(HERE, 'limit.mjs'), '--model', folder, '--traffic', opts.traffic, '--seconds', String(opts.limitSeconds), '--part', String(nextPart()), '--seed', opts.seed], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`limit.mjs failed (${code}):\n${err.slice(-2000)}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

/** Waits until the server has nothing queued (requests abandoned by the last run are finished). */
async function drain(server, kind, model) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    let idle = true;
    if (kind === 'gateway') {
      const m = await scrape(server.base).catch(() => ({}));
      idle = (m.nlp_queue_depth?.[model] ?? 0) === 0;
    } else {
      const h = await fetch(`${server.base}/health`).then((r) => r.json(), () => ({}));
      idle = (h.inflight ?? 0) === 0;
    }
    if (idle) return;
    await sleep(100);
  }
  progress(`warning: ${kind} still busy 60 s after a run`);
}

/**
 * Runs the concurrency ladder against one server: rows keyed by concurrency, the highest one with a
 * health probe (c=2) during its window.
 */
async function ladder({ kind, server, model, op, concurrency, opts, healthAt, onWindow }) {
  const gen = await startLoadGen();
  const healthGen = await startLoadGen();
  const rows = {};
  try {
    for (const c of concurrency) {
      await drain(server, kind, model);
      const withHealth = c === healthAt;
      let before;
      let after;
      let mon;
      let healthRun;
      const times = {};
      const res = await gen.run(
        {
          target: kind,
          op,
          url: server.base,
          model,
          seconds: opts.seconds,
          warmupSec: opts.warmup,
          maxWarmupSec: opts.maxWarmup,
          connections: c,
          // At least 3 answers per connection in the window (so that a slow server's p99 is not
          // read off one turn of its queue), within 2x --seconds.
          minWindowResponses: Math.max(30, 3 * c),
          part: nextPart(),
          seed: opts.seed,
          traffic: opts.traffic,
        },
        (event) => {
          if (event === 'window-start') {
            times.start = performance.now();
            mon = cpuMonitor({ server: [server.pid], client: [gen.pid, healthGen.pid, process.pid] });
            if (kind === 'gateway') before = scrape(server.base);
            if (withHealth) {
              healthRun = healthGen.run({
                target: kind,
                op: 'health',
                url: server.base,
                seconds: Math.max(1, opts.seconds - 1),
                connections: 2,
                intervalMs: 50,
              });
            }
          } else if (event === 'window-end') {
            times.end = performance.now();
            if (kind === 'gateway') after = scrape(server.base);
            rows[c] = { cpu: mon?.stop() };
          }
        },
      );
      const row = { ...res, ...rows[c], concurrency: c };
      // CPU of the server process, all its threads, per answered request.
      row.cpuMsPerReq = row.cpu && row.rps > 0 ? (row.cpu.server * 1000) / row.rps : NaN;
      if (kind === 'gateway') {
        const [b, a] = await Promise.all([before, after]);
        const items = metricDelta(b, a, 'nlp_batch_size_sum', model);
        const calls = metricDelta(b, a, 'nlp_batch_size_count', model);
        row.modelCalls = metricDelta(b, a, 'nlp_model_calls_total', model) || calls;
        row.meanBatch = calls > 0 ? items / calls : NaN;
        // Wall time of one model call as the gateway sees it (hand-off to the worker included).
        const inferSum = metricDelta(b, a, 'nlp_inference_duration_seconds_sum', model);
        const inferCount = metricDelta(b, a, 'nlp_inference_duration_seconds_count', model);
        row.callMs = inferCount > 0 ? (inferSum / inferCount) * 1000 : NaN;
        // prom-client's event-loop delay percentiles cover the time since the previous scrape (it
        // resets its histogram when scraped), so the scrape at the window's end covers the window.
        row.loopP99Ms = (a?.nlp_nodejs_eventloop_lag_p99_seconds?.[''] ?? NaN) * 1000;
        row.loopMaxMs = (a?.nlp_nodejs_eventloop_lag_max_seconds?.[''] ?? NaN) * 1000;
        row.textsComputed = items;
      } else {
        row.meanBatch = 1;
      }
      if (healthRun) row.health = await healthRun;
      row.failures = res.errors + res.timeouts + res.non2xx + res.badBodies + (row.health ? row.health.errors + row.health.timeouts + row.health.non2xx + row.health.badBodies : 0);
      rows[c] = row;
      onWindow?.(c, times);
      progress(`${kind} ${model} c=${c}: ${fmt(row.rps, 1)} req/s, p50 ${fmt(row.p50, 1)} ms, p99 ${fmt(row.p99, 1)} ms, batch ${fmt(row.meanBatch, 1)}${row.health ? `, health p99 ${healthCell(row.health)} ms` : ''}${row.failures ? `, FAILURES ${row.failures} ${res.badSample ?? row.health?.badSample ?? ''}` : ''}`);
    }
  } finally {
    gen.close();
    healthGen.close();
  }
  return rows;
}

async function measureGateway(model, opts, { env = {}, concurrency = opts.concurrency, nodeArgs = [], onWindow } = {}) {
  const { repo, notes } = singleModelRepo(model.folder);
  for (const n of notes) progress(`note: ${n}`);
  const started = performance.now();
  const server = await startGateway({ main: opts.gateway, repo, env: { ...opts.env, ...env }, nodeArgs });
  const startupMs = performance.now() - started;
  try {
    const op = model.spec.task === 'classification' ? 'classify' : 'embed';
    const rows = await ladder({ kind: 'gateway', server, model: model.name, op, concurrency, opts, healthAt: Math.max(...concurrency), onWindow });
    return { startupMs, rows, server, notes };
  } finally {
    await drain(server, 'gateway', model.name);
    const exit = await server.stop();
    if (exit?.code !== 0 && exit?.signal !== 'SIGTERM') progress(`warning: gateway exited with ${JSON.stringify(exit)}:\n${server.tail.slice(-10).join('\n')}`);
  }
}

async function measurePeer(model, opts) {
  let server;
  const started = performance.now();
  try {
    server = await startPeer({ folder: path.join(singleModelRepo(model.folder).repo, model.name) });
  } catch (e) {
    const first = String(e.message).split('\n').find((l) => /Error|error|Unsupported|not/.test(l)) ?? String(e.message).split('\n')[0];
    return { na: `transformers.js cannot load it: ${first.trim().slice(0, 200)}` };
  }
  const startupMs = performance.now() - started;
  try {
    const op = model.spec.task === 'classification' ? 'classify' : 'embed';
    const rows = await ladder({ kind: 'peer', server, model: model.name, op, concurrency: opts.concurrency, opts, healthAt: Math.max(...opts.concurrency) });
    return { startupMs, rows };
  } finally {
    await drain(server, 'peer', model.name);
    await server.stop();
  }
}

/** Whether transformers.js has a chance: a transformers model_type in config.json. */
function peerCandidate(model) {
  return typeof model.config?.model_type === 'string' && Array.isArray(model.config?.architectures);
}

// ---------------------------------------------------------------------------------------------
// Targets and ratios.

function evaluate(model, limit, gateway, peer, concurrency) {
  const top = Math.max(...concurrency);
  const g64 = gateway.rows[top];
  const g1 = gateway.rows[1];
  const p64 = peer?.rows?.[top];
  const ratios = {
    concurrency: top,
    gatewayOverLimitRps: g64 && limit ? g64.rps / limit.rps : NaN,
    gatewayOverPeerRps: g64 && p64 ? g64.rps / p64.rps : NaN,
    gatewayOverPeerP99: g64 && p64 ? g64.p99 / p64.p99 : NaN,
    c1P50MinusRaw: g1 && limit ? g1.p50 - limit.p50 : NaN,
    cpuOverModelMs: g64 && limit ? g64.cpuMsPerReq - limit.modelCpuMsPerText : NaN,
  };
  // The targets of issue 12 (one run, ratios measured side by side).
  const targets = [];
  if (model.name === 'spam-bert' || model.name === 'glove-embed-100d') {
    targets.push(target(`gateway c=${top} throughput >= 1.5x peer`, p64 ? ratios.gatewayOverPeerRps >= 1.5 : undefined, `${fmt(ratios.gatewayOverPeerRps, 2)}x (${fmt(g64?.rps, 1)} vs ${fmt(p64?.rps, 1)} req/s)`));
  }
  if (model.name === 'spam-bert') {
    targets.push(target(`gateway c=${top} p99 <= peer p99`, p64 ? g64.p99 <= p64.p99 : undefined, `${fmt(g64?.p99, 0)} vs ${fmt(p64?.p99, 0)} ms`));
  }
  if (model.name === STANDIN_NAME) {
    targets.push(target(`gateway c=${top} throughput >= 95% of limit`, ratios.gatewayOverLimitRps >= 0.95, `${fmt(ratios.gatewayOverLimitRps * 100, 0)}% (${fmt(g64?.rps, 1)} vs ${fmt(limit?.rps, 1)} texts/s)`));
    if (g1) targets.push(target('c=1 p50 <= raw single-text p50 + 1.5 ms', ratios.c1P50MinusRaw <= 1.5, `${fmt(g1.p50, 1)} ms vs raw ${fmt(limit.p50, 1)} ms (${ratios.c1P50MinusRaw >= 0 ? '+' : ''}${fmt(ratios.c1P50MinusRaw, 1)} ms)`));
  }
  targets.push(
    target(
      `gateway CPU per request <= model call's own CPU + 0.3 ms (c=${top})`,
      Number.isFinite(ratios.cpuOverModelMs) ? ratios.cpuOverModelMs <= 0.3 : undefined,
      `${fmt(g64?.cpuMsPerReq, 2)} vs ${fmt(limit?.modelCpuMsPerText, 2)} ms (${ratios.cpuOverModelMs >= 0 ? '+' : ''}${fmt(ratios.cpuOverModelMs, 2)} ms)`,
    ),
  );
  const h = g64?.health;
  targets.push(target(`health p99 < 20 ms while saturated (c=${top})`, h ? h.p99 < 20 && h.requests > 0 : undefined, h ? `${healthCell(h)} ms over ${h.requests} answered probes${h.censored ? ` and ${h.censored} unanswered at the end` : ''}` : 'not measured'));
  const failures = Object.values(gateway.rows).reduce((a, r) => a + r.failures, 0);
  targets.push(target('no errors / non-2xx / GraphQL errors', failures === 0, failures ? `${failures} failed answers` : 'none'));
  return { ratios, targets };
}

function target(name, pass, detail) {
  return { name, status: pass === undefined ? 'N/A' : pass ? 'PASS' : 'MISS', detail };
}

// ---------------------------------------------------------------------------------------------
// Printing.

function fmt(x, digits = 1) {
  if (x === undefined || x === null || Number.isNaN(x) || x === Infinity) return '-';
  if (!Number.isFinite(x)) return String(x);
  return x.toFixed(digits);
}

/** Health p99; '>=' when probes still unanswered at the end of the window count in it (a lower bound). */
function healthCell(h) {
  return `${h.censored ? '>=' : ''}${fmt(h.p99, 1)}`;
}

function cpuOurs(cpu) {
  return cpu ? `${fmt(cpu.server, 2)}/${fmt(cpu.client, 2)}` : '-';
}

function cpuNote(cpu) {
  if (!cpu) return '-';
  return `${fmt(cpu.others, 2)}/${fmt(cpu.niced, 2)}`;
}

function printModel(m) {
  const { model, limit, gateway, peer, ratios, targets } = m;
  const L = [];
  const tok = limit?.tokens;
  L.push('');
  L.push(`== ${model.name} on ${m.traffic} traffic  (${model.spec.task}, maxTokens ${model.spec.maxTokens}${tok ? `; tokens per text p10/p50/p90/max ${tok.p10}/${tok.p50}/${tok.p90}/${tok.max}` : ''}) ==`);
  const head = ['', 'req/s', 'p50 ms', 'p99 ms', 'batch', 'call ms', 'health p99', 'loop p99', 'fail', 'CPU ms/req', 'CPU srv/cli', 'others/niced'];
  const rows = [head];
  if (limit) rows.push(['limit (raw ORT, batch 1)', fmt(limit.rps, 1), fmt(limit.p50, 2), fmt(limit.p99, 2), '1', fmt(limit.mean, 2), '-', '-', '0', `${fmt(limit.modelCpuMsPerText, 2)}*`, cpuOurs(limit.cpu), cpuNote(limit.cpu)]);
  const add = (label, r) =>
    rows.push([label, fmt(r.rps, 1), fmt(r.p50, 1), fmt(r.p99, 1), fmt(r.meanBatch, 1), r.callMs !== undefined ? fmt(r.callMs, 1) : '-', r.health ? healthCell(r.health) : '-', r.loopP99Ms !== undefined ? fmt(r.loopP99Ms, 1) : '-', String(r.failures), fmt(r.cpuMsPerReq, 2), cpuOurs(r.cpu), cpuNote(r.cpu)]);
  for (const [c, r] of Object.entries(gateway.rows)) add(`gateway c=${c}`, r);
  if (peer?.rows) for (const [c, r] of Object.entries(peer.rows)) add(`peer    c=${c}`, r);
  else rows.push([`peer`, `n/a: ${peer?.na ?? 'not run'}`]);
  L.push(table(rows));
  L.push("* the model call's own CPU per text: the same texts one at a time on a one-thread session, no spinning");
  for (const [c, r] of Object.entries(gateway.rows)) {
    const t = r.cpu?.threads;
    if (!t || !(r.rps > 0)) continue;
    const ms = (cores) => fmt((cores * 1000) / r.rps, 2);
    L.push(`gateway c=${c} CPU ms per request by thread: main ${ms(t.main)}; others ${t.others.slice(0, 6).map(ms).join(', ')}`);
  }
  L.push(
    `ratios at c=${ratios.concurrency}: gateway/limit throughput ${fmt(ratios.gatewayOverLimitRps, 2)}x; gateway/peer throughput ${fmt(ratios.gatewayOverPeerRps, 2)}x, p99 ${fmt(ratios.gatewayOverPeerP99, 2)}x; c=1 p50 - raw p50 = ${ratios.c1P50MinusRaw >= 0 ? '+' : ''}${fmt(ratios.c1P50MinusRaw, 1)} ms`,
  );
  for (const t of targets) L.push(`  ${t.status.padEnd(4)}  ${t.name}: ${t.detail}`);
  console.log(L.join('\n'));
}

function table(rows) {
  const widths = [];
  for (const r of rows) if (r.length > 2 || r === rows[0]) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, String(c).length)));
  return rows
    .map((r) => (r.length === 2 && r !== rows[0] ? `${r[0].padEnd(widths[0])}  ${r[1]}` : r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')))
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Profiling: a gateway started with --cpu-prof, one run at the top concurrency, profiles summarised
// over the measured window only.

async function profileGateway(model, opts) {
  const dir = path.join(CACHE, 'prof', `${model.name}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const top = Math.max(...opts.concurrency);
  let window;
  const run = await measureGateway(model, opts, {
    concurrency: [top],
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
    onWindow: (_c, times) => (window = times),
  });
  const exitAt = performance.now();
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const summaries = [];
  for (const f of files.sort()) {
    const profile = JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0 is the main thread.
    const tid = f.split('.')[4];
    const thread = tid === '0' ? 'main thread' : `worker thread ${tid}`;
    const s = summarise(profile, window ? { fromEndUs: (exitAt - window.start) * 1000, toEndUs: (exitAt - window.end) * 1000 } : {});
    summaries.push({ file: path.relative(REPO, path.join(dir, f)), thread, ...s, functions: s.functions.slice(0, 40), areas: s.areas });
  }
  return { dir: path.relative(REPO, dir), row: run.rows[top], summaries };
}

// ---------------------------------------------------------------------------------------------
// Configuration exploration (--explore): a few gateway settings on the BERT-sized models.

const EXPLORE_CONFIGS = [
  { label: 'gateway defaults', env: {} },
  { label: 'W1 T2 (one worker, every core)', env: { INFERENCE_WORKERS: '1', ORT_INTRA_OP_THREADS: '2' } },
  { label: 'W2 T1 (two one-thread workers)', env: { INFERENCE_WORKERS: '2', ORT_INTRA_OP_THREADS: '1' } },
  { label: 'W2 T2 (two workers, every core each)', env: { INFERENCE_WORKERS: '2', ORT_INTRA_OP_THREADS: '2' } },
  { label: 'W0 T2 (main thread)', env: { INFERENCE_WORKERS: '0', ORT_INTRA_OP_THREADS: '2' } },
  { label: 'B8', env: { BATCH_MAX_SIZE: '8' } },
  { label: 'B64', env: { BATCH_MAX_SIZE: '64' } },
  { label: 'D2 (batches wait 2 ms)', env: { BATCH_MAX_DELAY_MS: '2' } },
  { label: 'tokenize on the event loop', env: { TOKENIZER_THREADS: '0' } },
  { label: 'no fair share', env: { FAIR_SHARE: 'off' } },
];

async function explore(models, opts) {
  const top = Math.max(...opts.concurrency);
  const out = {};
  for (const model of models) {
    const rows = [['config', 'c=1 p50', `c=${top} req/s`, 'p50 ms', 'p99 ms', 'batch', 'call ms', 'health p99', 'loop p99', 'fail', 'CPU srv/cli', 'others/niced']];
    out[model.name] = [];
    for (const cfg of EXPLORE_CONFIGS.filter((_, i) => !opts.configs || opts.configs.includes(i))) {
      progress(`explore ${model.name}: ${cfg.label}`);
      try {
        const r = await measureGateway(model, opts, { env: cfg.env, concurrency: [1, top] });
        const a = r.rows[1];
        const b = r.rows[top];
        out[model.name].push({ config: cfg.label, env: cfg.env, c1: a, top: b });
        rows.push([cfg.label, fmt(a.p50, 1), fmt(b.rps, 1), fmt(b.p50, 1), fmt(b.p99, 1), fmt(b.meanBatch, 1), fmt(b.callMs, 1), b.health ? healthCell(b.health) : '-', fmt(b.loopP99Ms, 1), String(a.failures + b.failures), cpuOurs(b.cpu), cpuNote(b.cpu)]);
      } catch (e) {
        out[model.name].push({ config: cfg.label, env: cfg.env, error: String(e.message).slice(0, 500) });
        rows.push([cfg.label, `failed: ${String(e.message).split('\n')[0].slice(0, 100)}`]);
      }
    }
    console.log(`\n== configuration comparison: ${model.name} (W = INFERENCE_WORKERS, T = ORT_INTRA_OP_THREADS, D = BATCH_MAX_DELAY_MS) ==`);
    console.log(table(rows));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * --snapshot: compiles src/ into test/bench/.cache/gw/dist (with a copy of package.json one level up,
 * where version.js looks for it), so that the benchmark runs a private build that other builds of
 * dist/ cannot change under it.
 */
async function buildSnapshot() {
  const root = path.join(CACHE, 'gw');
  const fresh = path.join(CACHE, 'gw.tmp');
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true });
  writeFileSync(path.join(fresh, 'package.json'), readFileSync(path.join(REPO, 'package.json')));
  progress('compiling src/ into test/bench/.cache/gw/dist');
  const tsc = path.join(REPO, 'node_modules/typescript/bin/tsc');
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', path.join(fresh, 'dist')], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', resolve);
  });
  if (code === 0) {
    rmSync(root, { recursive: true, force: true });
    renameSync(fresh, root);
  } else if (existsSync(path.join(root, 'dist/main.js'))) {
    progress('warning: src/ does not compile now; using the previous snapshot in test/bench/.cache/gw');
  } else {
    throw new Error('src/ does not compile and there is no previous snapshot');
  }
  return path.join(root, 'dist/main.js');
}

/**
 * --nice N: every process started from here on runs at nice N (inherited with its threads), and so
 * does this session's scheduling autogroup where the kernel groups by session
 * (/proc/sys/kernel/sched_autogroup_enabled = 1): there CPU is first shared equally between sessions,
 * whatever the nice values inside them, so one job in another session takes a full core of the two
 * from the gateway, load generators and all. The autogroup's previous nice is restored on exit.
 */
function applyNice(n) {
  os.setPriority(n);
  let group = '';
  try {
    const before = readFileSync('/proc/self/autogroup', 'utf8').trim(); // "/autogroup-8 nice 0"
    const old = /nice\s+(-?\d+)/.exec(before)?.[1];
    writeFileSync('/proc/self/autogroup', String(n));
    group = `, session autogroup ${before.split(' ')[0]} at nice ${n}`;
    if (old !== undefined) {
      process.on('exit', () => {
        try {
          writeFileSync('/proc/self/autogroup', old);
        } catch {}
      });
      for (const s of ['SIGINT', 'SIGTERM']) process.once(s, () => process.exit(130));
    }
  } catch (e) {
    group = ` (session autogroup unchanged: ${String(e.message).split('\n')[0]})`;
  }
  progress(`running at nice ${os.getPriority()}${group}`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.nice !== undefined) applyNice(opts.nice);
  if (opts.snapshot) opts.gateway = await buildSnapshot();
  if (!existsSync(opts.gateway)) throw new Error(`${path.relative(REPO, opts.gateway)} not found: run \`npm run build\` first (or pass --gateway)`);
  const began = performance.now();
  const names = opts.models ?? DEFAULT_MODELS;
  const traffics = opts.traffics ?? availableTraffics();
  const { found, missing } = await resolveModels(names, opts.modelsDir);
  for (const m of missing) progress(`skipping ${m.name}: ${m.folder} has ${m.reason}`);
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    loadavgAtStart: os.loadavg(),
    gateway: path.relative(REPO, opts.gateway),
    gatewayEnv: opts.env,
    traffics,
    nice: os.getPriority(),
    options: { seconds: opts.seconds, warmup: opts.warmup, limitSeconds: opts.limitSeconds, concurrency: opts.concurrency, seed: opts.seed },
  };
  console.log(`nlp-gateway benchmark: ${meta.date}, node ${meta.node}, ${meta.cpus} CPUs (${meta.cpuModel}), load average ${meta.loadavgAtStart.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`gateway ${meta.gateway}${Object.keys(opts.env).length ? ` with ${JSON.stringify(opts.env)}` : ' with default settings'}; traffics ${traffics.join(', ')}${traffics.includes('mail') ? '' : ' (mail: npm --prefix models/scripts ci)'}; windows ${opts.seconds} s after >= ${opts.warmup} s warm-up`);
  if (meta.loadavgAtStart[0] > 0.5) console.log(`note: the machine was already busy (load average ${meta.loadavgAtStart[0].toFixed(2)}); see the "CPU others" column`);
  const results = { meta, missing, models: {} };

  const standin = found.find((m) => m.name === STANDIN_NAME);
  if (standin && !opts.exploreOnly) {
    const v = await verifyStandin(standin.folder);
    results.standinCheck = v;
    console.log(`stand-in check: ${v.msPerText.toFixed(2)} ms/text at ${v.tokens} tokens, batch 1, default session options (MiniLM-L6 class)`);
  }

  if (!opts.exploreOnly) {
    for (const traffic of traffics) {
      const topts = { ...opts, traffic };
      for (const model of found) {
        progress(`${model.name} on ${traffic}: limit`);
        const limit = await runLimit(model.folder, topts);
        progress(`${model.name} on ${traffic}: limit ${fmt(limit.rps, 1)} texts/s, p50 ${fmt(limit.p50, 2)} ms, model CPU ${fmt(limit.modelCpuMsPerText, 2)} ms/text`);
        progress(`${model.name} on ${traffic}: gateway`);
        const gw = await measureGateway(model, topts);
        delete gw.server;
        let peer;
        if (!opts.peer) peer = { na: 'not run (--no-peer)' };
        else if (!peerCandidate(model)) peer = { na: `not a transformers architecture (config.json model_type ${JSON.stringify(model.config?.model_type ?? null)})` };
        else {
          progress(`${model.name} on ${traffic}: peer`);
          peer = await measurePeer(model, topts);
        }
        const { ratios, targets } = evaluate(model, limit, gw, peer, opts.concurrency);
        const entry = { model: { name: model.name, folder: path.relative(REPO, model.folder), spec: model.spec }, traffic, limit, gateway: gw, peer, ratios, targets };
        results.models[`${model.name}/${traffic}`] = entry;
        printModel(entry);
        writeFileSync(opts.out, `${JSON.stringify(results, null, 1)}\n`);
      }
    }
  }

  // Profiles and the configuration comparison run on the first traffic.
  opts.traffic ??= traffics[0];
  if (opts.profile) {
    results.profiles = {};
    for (const model of found) {
      progress(`${model.name}: profiling the gateway at c=${Math.max(...opts.concurrency)}`);
      const p = await profileGateway(model, opts);
      results.profiles[model.name] = p;
      console.log(`\n== CPU profile of the gateway, ${model.name}, c=${Math.max(...opts.concurrency)} window (${fmt(p.row.rps, 1)} req/s, p99 ${fmt(p.row.p99, 1)} ms); files in ${p.dir} ==`);
      for (const s of p.summaries) console.log(formatSummary(s.thread, s, 15));
    }
  }

  if (opts.explore) {
    const targets = found.filter((m) => m.name === 'spam-bert' || m.name === STANDIN_NAME);
    results.explore = await explore(targets.length ? targets : found, opts);
  }

  if (missing.length) console.log(`\nnot measured: ${missing.map((m) => `${m.name} (${m.folder}: ${m.reason})`).join('; ')}`);
  const all = Object.values(results.models).flatMap((m) => m.targets.map((t) => ({ model: `${m.model.name} (${m.traffic})`, ...t })));
  if (all.length) {
    console.log('\n== targets ==');
    for (const t of all) console.log(`  ${t.status.padEnd(4)}  ${t.model}: ${t.name}: ${t.detail}`);
  }
  results.meta.seconds = (performance.now() - began) / 1000;
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(results, null, 1)}\n`);
  console.log(`\nresults: ${path.relative(process.cwd(), opts.out)} (${results.meta.seconds.toFixed(0)} s)`);
  if (Object.values(results.models).some((m) => m.targets.some((t) => t.name.startsWith('no errors') && t.status === 'MISS'))) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e?.stack ?? e);
  process.exit(1);
});
