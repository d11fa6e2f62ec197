// On paper: how deploy/k8s's HPA responds to a step in traffic, from one replica's measured service
// rate (npm run bench:scale prints it). A fluid model, second by second, of what the HPA reads
// through Prometheus and prometheus-adapter and what it then does:
//
//   traffic:   lambda req/s, stepping from --base to --base x --step at t = 60 s;
//   pods:      each ready pod serves --rate req/s; a new pod is ready --pod-start-s after the HPA asks
//              for it (scheduling, container start, model warm-up; the image already on the node);
//   queue:     texts beyond the ready pods' capacity wait (a backlog shared evenly); a pod holds at most
//              BATCH_MAX_QUEUE (2048) and refuses the rest (OVERLOADED);
//   per pod:   nlp_queue_depth = backlog per pod + rho/(1-rho) (M/M/1 mean in system, rho < 1);
//              p99 = backlog wait + ln(100)/(rate x (1-rho)) (M/M/1 sojourn time);
//              nlp_texts_per_second = what the pod computes (at most its rate);
//   metrics:   scraped every 15 s; the HPA reads them 15 s later (adapter and HPA caches); the p99 is
//              a rate over 2 minutes, taken here as the mean of the scraped p99s of the last 2 minutes;
//   HPA:       every 15 s, per metric ceil(ready pods x value/target) outside a 10% tolerance (pods
//              still starting have no metrics: no scale-down while any is starting); the largest
//              proposal; the behavior of deploy/k8s/base/hpa.yaml (scale-up and scale-down policies,
//              scale-down stabilization window), min/max replicas.
// Simplifications, on purpose: one queue per pod (the gateway batches, which helps it), even load
// balancing, no request timeouts. It tells how long a step takes to absorb, not exact latencies.
//
//   npm run hpa:sim -- --rate 700                       # rate: one replica's req/s from bench:scale
//   npm run hpa:sim -- --rate 700 --base 600 --step 4 --pod-start-s 45
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    rate: { type: 'string' },
    base: { type: 'string' },
    step: { type: 'string', default: '4' },
    'pod-start-s': { type: 'string', default: '30' },
    seconds: { type: 'string', default: '900' },
    hpa: { type: 'string', default: path.join(REPO, 'deploy/k8s/base/hpa.yaml') },
  },
});
if (!values.rate) throw new Error('--rate <req/s of one replica> is required (npm run bench:scale prints it)');

const hpa = parse(readFileSync(values.hpa, 'utf8'));
const RATE = Number(values.rate);
const MIN = hpa.spec.minReplicas;
const MAX = hpa.spec.maxReplicas;
const BASE = values.base ? Number(values.base) : 0.5 * MIN * RATE;
const PEAK = BASE * Number(values.step);
const POD_START_S = Number(values['pod-start-s']);
const SECONDS = Number(values.seconds);
const QUEUE_CAP = 2048;
const SCRAPE_S = 15;
const READ_LAG_S = 15;
const SYNC_S = 15;
const TOLERANCE = 0.1;
const P99_WINDOW_S = 120;

const quantity = (v) => (typeof v === 'number' ? v : v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v));
const targets = Object.fromEntries(hpa.spec.metrics.map((m) => [m.pods.metric.name, quantity(m.pods.target.averageValue)]));
const up = hpa.spec.behavior.scaleUp;
const down = hpa.spec.behavior.scaleDown;

/** Most replicas a scale-up may reach from `from` (the replica count one policy period ago). */
function scaleUpLimit(from) {
  const limits = up.policies.map((p) => (p.type === 'Percent' ? Math.ceil(from * (1 + p.value / 100)) : from + p.value));
  return up.selectPolicy === 'Min' ? Math.min(...limits) : Math.max(...limits);
}

const pods = Array.from({ length: MIN }, () => ({ readyAt: 0 }));
let backlog = 0;
let rejected = 0;
let served = 0;
const scrapes = []; // { t, depth, p99 }
const recommendations = []; // { t, desired } for scale-down stabilization
const replicaHistory = []; // replicas per second, for policy periods
const rows = [];
let lastScaleDown = -Infinity;
let worstP99 = 0;
let absorbedAt;

for (let t = 0; t <= SECONDS; t++) {
  const lambda = t < 60 ? BASE : PEAK;
  const ready = pods.filter((p) => p.readyAt <= t).length;
  const capacity = ready * RATE;
  const rho = Math.min(lambda / capacity, 0.999);
  // The backlog grows by what capacity cannot take and shrinks by what spare capacity drains.
  backlog = Math.max(0, backlog + lambda - capacity);
  const cap = ready * QUEUE_CAP;
  if (backlog > cap) {
    rejected += backlog - cap;
    backlog = cap;
  }
  served += Math.min(lambda + backlog, capacity);
  const inSystem = lambda < capacity ? rho / (1 - rho) : QUEUE_CAP / 8;
  const depth = backlog / ready + Math.min(inSystem, QUEUE_CAP);
  const p99 = backlog / capacity + Math.log(100) / (RATE * (1 - rho));
  worstP99 = Math.max(worstP99, p99);
  if (t > 60 && absorbedAt === undefined && backlog === 0 && lambda < capacity) absorbedAt = t;
  const texts = Math.min(lambda + backlog, capacity) / ready;
  if (t % SCRAPE_S === 0) scrapes.push({ t, depth, p99, texts });
  replicaHistory.push(pods.length);

  if (t % SYNC_S === 0 && t > 0) {
    // What the HPA reads: the last scrape at least READ_LAG_S old; p99 averaged over its window.
    const seen = scrapes.filter((s) => s.t <= t - READ_LAG_S);
    if (seen.length) {
      const last = seen.at(-1);
      const window = seen.filter((s) => s.t > last.t - P99_WINDOW_S);
      const metrics = {
        nlp_queue_depth: last.depth,
        nlp_request_duration_seconds_p99: window.reduce((a, s) => a + s.p99, 0) / window.length,
        nlp_texts_per_second: last.texts,
      };
      const current = pods.length;
      const starting = pods.length - ready;
      const proposals = Object.entries(targets).map(([name, target]) => {
        if (metrics[name] === undefined) throw new Error(`the simulation does not model ${name}`);
        const ratio = metrics[name] / target;
        return Math.abs(ratio - 1) <= TOLERANCE ? current : Math.ceil(ready * ratio);
      });
      let desired = Math.min(MAX, Math.max(MIN, ...proposals, starting > 0 ? current : 0));
      recommendations.push({ t, desired });
      if (desired > current) {
        const period = Math.max(...up.policies.map((p) => p.periodSeconds));
        const from = replicaHistory[Math.max(0, t - period)];
        desired = Math.min(desired, scaleUpLimit(from));
        for (let i = current; i < desired; i++) pods.push({ readyAt: t + POD_START_S });
      } else if (desired < current) {
        // Scale down only to the highest recommendation of the stabilization window, one policy step at a time.
        const stable = Math.max(...recommendations.filter((r) => r.t > t - down.stabilizationWindowSeconds).map((r) => r.desired));
        const policy = down.policies[0];
        if (stable < current && t - lastScaleDown >= policy.periodSeconds) {
          const next = Math.max(stable, current - (policy.type === 'Pods' ? policy.value : Math.ceil((current * policy.value) / 100)));
          pods.splice(next);
          lastScaleDown = t;
        }
      }
    }
  }
  if (t % 30 === 0 || t === 60) {
    rows.push(`| ${t} | ${Math.round(lambda)} | ${ready}/${pods.length} | ${Math.round(depth)} | ${Math.round(p99 * 1000)} | ${Math.round(rejected)} |`);
  }
}

console.log(`HPA ${path.relative(REPO, values.hpa)}: min ${MIN}, max ${MAX}, targets ${JSON.stringify(targets)}`);
console.log(`one replica serves ${RATE} req/s; traffic ${Math.round(BASE)} -> ${Math.round(PEAK)} req/s at t = 60 s; a new pod is ready ${POD_START_S} s after it is asked for\n`);
console.log('| t (s) | req/s | pods ready/total | queue depth per pod | p99 ms | refused so far |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
const needed = Math.ceil(PEAK / RATE);
console.log(
  `\nneeded for the peak: ${needed} pods (${Math.ceil(PEAK / (RATE * 0.8))} at 80% load); ` +
    `backlog gone ${absorbedAt === undefined ? 'never' : `${absorbedAt - 60} s after the step`}; worst p99 ${Math.round(worstP99 * 1000)} ms; ` +
    `refused (OVERLOADED) ${Math.round(rejected)} of ${Math.round(served + rejected)} (${((100 * rejected) / (served + rejected)).toFixed(2)}%)`,
);
