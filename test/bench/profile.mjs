// Summarises V8 .cpuprofile files (node --cpu-prof): self time per function and per area (GraphQL,
// Apollo, HTTP helper packages, tokenizer, onnxruntime, the gateway's own code, GC, idle), optionally only over a
// time window at the end of the profile (the load run, not start-up).
//
//   node test/bench/profile.mjs FILE.cpuprofile [--top 25]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const AREAS = [
  [/\/node_modules\/graphql\//, 'graphql-js (parse/validate/execute)'],
  [/\/node_modules\/@apollo\//, 'Apollo Server'],
  [/\/node_modules\/(type-graphql|class-validator|reflect-metadata|graphql-scalars)\//, 'type-graphql'],
  [/\/node_modules\/(express|body-parser|raw-body|router|iconv-lite|content-type|type-is|on-finished|finalhandler|send|qs|cookie|negotiator|accepts|mime-types|@as-integrations)\//, 'HTTP helpers (negotiator, content-type, ...)'],
  [/\/node_modules\/@huggingface\/tokenizers\//, 'tokenizer (@huggingface/tokenizers)'],
  [/\/node_modules\/onnxruntime-(node|common)\//, 'onnxruntime-node JS (session.run incl. native compute)'],
  [/\/node_modules\/dataloader\//, 'dataloader'],
  [/\/node_modules\/prom-client\//, 'prom-client'],
  [/\/node_modules\/pino/, 'pino'],
  [/\/node_modules\/zod\//, 'zod'],
  [/\/node_modules\/(lru-cache|ioredis|redis)/, 'cache libraries'],
  [/\/node_modules\//, 'other node_modules'],
  [/^node:|^internal\//, 'Node core (http, streams, worker messaging)'],
];

function areaOf(frame) {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    if (functionName === '(program)') return '(program: native, not attributed)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  for (const [re, name] of AREAS) if (re.test(url)) return name;
  if (/\/(dist|src)\/|gwdist/.test(url)) return 'gateway code';
  return 'other JS';
}

function shortUrl(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 14);
  const d = url.search(/\/(dist|src)\//);
  if (d >= 0) return url.slice(d + 1);
  return url.replace(/^file:\/\//, '');
}

/**
 * @param {object} profile parsed .cpuprofile
 * @param {{fromEndUs?: number, toEndUs?: number}} window keep samples taken between fromEndUs and
 *   toEndUs microseconds before the profile's end (both optional)
 */
export function summarise(profile, window = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let t = profile.startTime;
  const end = profile.endTime;
  const from = window.fromEndUs !== undefined ? end - window.fromEndUs : -Infinity;
  const to = window.toEndUs !== undefined ? end - window.toEndUs : Infinity;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    t += profile.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
    total += dt;
  }
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const frame = byId.get(id).callFrame;
    const key = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const sort = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: total ? us / total : 0 }));
  return { totalMs: Math.round(total / 1000), functions: sort(fns), areas: sort(areas) };
}

export function formatSummary(title, s, top = 20) {
  const pct = (x) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const busy = s.areas.filter((a) => a.name !== '(idle)').reduce((a, b) => a + b.share, 0);
  const lines = [`${title}: ${s.totalMs} ms sampled, ${pct(busy)} busy`];
  lines.push('  by area (self time):');
  for (const a of s.areas.slice(0, 14)) lines.push(`    ${pct(a.share)}  ${a.name}`);
  lines.push(`  top ${top} functions (self time):`);
  for (const f of s.functions.slice(0, top)) lines.push(`    ${pct(f.share)}  ${String(f.ms).padStart(6)} ms  ${f.name}`);
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const top = args.includes('--top') ? Number(args[args.indexOf('--top') + 1]) : 25;
  for (const file of args.filter((a) => a.endsWith('.cpuprofile'))) {
    console.log(formatSummary(path.basename(file), summarise(JSON.parse(readFileSync(file, 'utf8'))), top));
  }
}
