// Processes the benchmark starts (gateway, peer, load generators), Prometheus scraping, and a CPU
// monitor that tells how much of the machine other processes took during a run.
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../support/ports.mjs';
import { CACHE, REPO } from './traffic.mjs';

const HERE = path.dirname(new URL(import.meta.url).pathname);

/**
 * A model repository for one model (symlinks), so that one server serves one model: `folder` and the
 * models of its fallback chain (model.json `fallback`, looked up beside it), which the gateway needs
 * to start. Where needed a model is served from a folder of symlinks with a rewritten model.json:
 * a fallback that does not exist is cut, and models of the chain other than the benchmarked one lose
 * `default` (two defaults of one task stop the gateway). `notes` says what was changed.
 */
export function singleModelRepo(folder) {
  const name = path.basename(folder);
  const repo = path.join(CACHE, 'repos', name);
  const notes = [];
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  const seen = new Set();
  let cur = path.resolve(folder);
  while (cur && !seen.has(path.basename(cur))) {
    const curName = path.basename(cur);
    seen.add(curName);
    const spec = JSON.parse(readFileSync(path.join(cur, 'model.json'), 'utf8'));
    const patched = { ...spec };
    let fallback = spec.fallback ? path.join(path.dirname(cur), spec.fallback) : undefined;
    if (fallback && !existsSync(path.join(fallback, 'model.json'))) {
      delete patched.fallback;
      notes.push(`${curName}: fallback "${spec.fallback}" not found, served without it`);
      fallback = undefined;
    }
    if (curName !== name && spec.default) {
      patched.default = false;
      notes.push(`${curName} (fallback of ${name}) loaded with default: false`);
    }
    const target = path.join(repo, curName);
    if (JSON.stringify(patched) === JSON.stringify(spec)) {
      symlinkSync(cur, target);
    } else {
      mkdirSync(target);
      for (const f of readdirSync(cur)) if (f !== 'model.json') symlinkSync(path.join(cur, f), path.join(target, f));
      writeFileSync(path.join(target, 'model.json'), JSON.stringify(patched));
    }
    cur = fallback;
  }
  return { repo, notes };
}

/**
 * Starts a server process and resolves once it is ready: `portOf(line)` finds the port in a stdout
 * line; `readyPath` (when given) must then answer 200.
 */
async function startServer({ command, args, env, portOf, port: knownPort, readyPath, timeoutMs = 180_000, label }) {
  const child = spawn(command, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const keep = (chunk) => {
    for (const line of String(chunk).split('\n')) if (line.trim()) tail.push(line.slice(0, 400));
    while (tail.length > 40) tail.shift();
  };
  let exited = null;
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exited = { code, signal }))));
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    if (knownPort) {
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      exit.then(() => reject(new Error(`${label} exited (${JSON.stringify(exited)}) while starting:\n${tail.join('\n')}`)));
      return resolve(knownPort);
    }
    const timer = setTimeout(() => reject(new Error(`${label}: no port within ${timeoutMs} ms\n${tail.join('\n')}`)), timeoutMs);
    child.stdout.on('data', (chunk) => {
      keep(chunk);
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const p = portOf(line);
        if (p) {
          clearTimeout(timer);
          resolve(p);
        }
      }
    });
    child.stderr.on('data', keep);
    exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${JSON.stringify(exited)}) before listening:\n${tail.join('\n')}`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  if (readyPath) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited) throw new Error(`${label} exited (${JSON.stringify(exited)}) while loading:\n${tail.join('\n')}`);
      const ok = await fetch(base + readyPath).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`${label}: not ready within ${timeoutMs} ms\n${tail.join('\n')}`);
      await sleep(200);
    }
  }
  return {
    pid: child.pid,
    base,
    tail,
    async stop(graceMs = 20_000) {
      if (exited) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const r = await exit;
      clearTimeout(timer);
      return r;
    },
  };
}

/**
 * The gateway (`node <main> ...`), one model repository, configuration from `env` (the gateway's own
 * defaults otherwise, LOG_LEVEL included). The port is chosen here, so that no log line is needed.
 */
export async function startGateway({ main, repo, env = {}, nodeArgs = [] }) {
  const port = await freePort();
  return startServer({
    label: 'gateway',
    command: process.execPath,
    args: [...nodeArgs, main],
    env: { HOST: '127.0.0.1', MODELS_DIR: repo, ...env, PORT: String(port) },
    port,
    readyPath: '/readyz',
  });
}

/** The transformers.js peer server for one model folder. */
export function startPeer({ folder }) {
  return startServer({
    label: 'peer',
    command: process.execPath,
    args: [path.join(HERE, 'peer-server.mjs'), '--model', folder],
    env: {},
    portOf: (line) => {
      try {
        const j = JSON.parse(line);
        return j.msg === 'listening' && j.port ? j.port : undefined;
      } catch {
        return undefined;
      }
    },
  });
}

/** A load-generator child (load.mjs) driven over IPC. */
export async function startLoadGen() {
  const child = fork(path.join(HERE, 'load.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seq = 0;
  const pending = new Map();
  child.on('message', (m) => {
    const p = pending.get(m.id);
    if (!p) return;
    if (m.event) return void p.onEvent?.(m.event);
    pending.delete(m.id);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.result);
  });
  child.on('exit', () => {
    for (const p of pending.values()) p.reject(new Error('load generator exited'));
  });
  await new Promise((resolve) => child.once('message', resolve));
  return {
    pid: child.pid,
    /** Runs one load (see load.mjs); `onEvent('window-start'|'window-end')` as the window opens and closes. */
    run(opts, onEvent) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, onEvent });
        child.send({ ...opts, id });
      });
    },
    close() {
      child.send({ type: 'exit' });
    },
  };
}

/** Sums of each Prometheus metric per value of label `model` ('' for series without one). */
export async function scrape(base) {
  const text = await fetch(`${base}/metrics`).then((r) => r.text());
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const model = /(?:^|,)model="([^"]*)"/.exec(m[2] ?? '')?.[1] ?? (m[2] ? undefined : '');
    if (model === undefined) continue;
    ((out[m[1]] ??= {})[model] ??= 0);
    out[m[1]][model] += Number(m[3]);
  }
  return out;
}

export function metricDelta(before, after, name, model) {
  return (after?.[name]?.[model] ?? 0) - (before?.[name]?.[model] ?? 0);
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc (Linux): whole machine vs. the processes named.

const CLK_TCK = 100;

function procJiffies(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) ".
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** CPU jiffies of every thread of `pid`, by thread id. */
function threadJiffies(pid) {
  const out = new Map();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) out.set(Number(tid), procJiffies(`${pid}/task/${tid}`));
  } catch {
    /* gone */
  }
  return out;
}

function machineJiffies() {
  try {
    const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = v.map(Number);
    return { busy: user + nice + system + irq + softirq + steal, nice, idle: idle + iowait };
  } catch {
    return undefined;
  }
}

/**
 * Starts measuring; `stop()` returns cores used on average over the interval by the server
 * (`server`, all its threads), by the benchmark's own processes (`client`: load generators and
 * orchestrator), by other processes at normal priority (`others`) and by niced ones (`niced`, e.g. a
 * training job at nice 15).
 */
export function cpuMonitor({ server = [], client = [] }) {
  const t0 = performance.now();
  const m0 = machineJiffies();
  const s0 = server.map(procJiffies);
  const c0 = client.map(procJiffies);
  const th0 = server[0] ? threadJiffies(server[0]) : new Map();
  return {
    stop() {
      const secs = (performance.now() - t0) / 1000;
      const m1 = machineJiffies();
      if (!m0 || !m1 || secs <= 0) return undefined;
      const used = (pids, before) => pids.map(procJiffies).reduce((a, j, i) => a + Math.max(0, j - before[i]), 0);
      const srv = used(server, s0);
      const cli = used(client, c0);
      const busy = m1.busy - m0.busy;
      const niced = m1.nice - m0.nice;
      const cores = (j) => Math.round((j / CLK_TCK / secs) * 100) / 100;
      // The server's threads: its main thread (tid = pid), then the others by use (workers, tokenizer, ...).
      const t1 = server[0] ? threadJiffies(server[0]) : new Map();
      const deltas = [...t1].map(([tid, j]) => [tid, Math.max(0, j - (th0.get(tid) ?? 0))]);
      const main = deltas.find(([tid]) => tid === server[0])?.[1] ?? 0;
      const rest = deltas.filter(([tid, j]) => tid !== server[0] && j > 0).map(([, j]) => cores(j)).sort((a, b) => b - a);
      return {
        server: cores(srv),
        client: cores(cli),
        others: cores(Math.max(0, busy - niced - srv - cli)),
        niced: cores(niced),
        threads: { main: cores(main), others: rest },
      };
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
