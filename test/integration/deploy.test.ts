// The operations artefacts in deploy/: Prometheus rules, their unit tests and the example config pass
// promtool; the Grafana dashboard is well formed; and every nlp_ metric they name is one the gateway
// exports (the contract below). No gateway process: this file runs in a few seconds.
//
// promtool comes from Prometheus (Debian: `apt-get install prometheus`). PROMTOOL=/path/to/promtool
// picks another binary; NLP_SKIP_PROMTOOL=1 skips the promtool checks on machines without it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { collectProcessMetrics } from '../../src/telemetry/process-metrics.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = path.join(REPO, 'deploy');
const ALERTS = path.join(DEPLOY, 'prometheus/alerts.yml');
const ALERT_TESTS = path.join(DEPLOY, 'prometheus/alerts.test.yml');
const CONFIG = path.join(DEPLOY, 'prometheus/prometheus.yml');
const DASHBOARD = path.join(DEPLOY, 'grafana/nlp-gateway.json');
const README = path.join(DEPLOY, 'README.md');
const COMPOSE_CONFIG = path.join(DEPLOY, 'prometheus/compose.yml');
const ADAPTER_RULES = path.join(DEPLOY, 'k8s/prometheus-adapter/rules.yaml');
const HPA = path.join(DEPLOY, 'k8s/base/hpa.yaml');

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/**
 * The metric families the gateway exports besides Node's default ones: the contract deploy/ is
 * written against. test/integration's metrics test checks that a running gateway really exports
 * them; this file checks deploy/ uses nothing else. Renaming a metric means changing both.
 */
const GATEWAY_METRICS: Record<string, MetricType> = {
  nlp_requests_total: 'counter', // model, operation, status
  nlp_errors_total: 'counter', // operation, code
  nlp_request_duration_seconds: 'histogram', // model, operation
  nlp_queue_duration_seconds: 'histogram', // model
  nlp_tokenize_duration_seconds: 'histogram', // model
  nlp_inference_duration_seconds: 'histogram', // model
  nlp_batch_size: 'histogram', // model
  nlp_queue_depth: 'gauge', // model
  nlp_call_cost_seconds: 'gauge', // model, part
  nlp_input_tokens: 'histogram', // model
  nlp_truncated_total: 'counter', // model
  nlp_model_calls_total: 'counter', // model
  nlp_batched_items_total: 'counter',
  nlp_deduplicated_total: 'counter',
  nlp_abandoned_total: 'counter',
  nlp_overloaded_total: 'counter',
  nlp_cache_requests_total: 'counter', // tier, result
  nlp_cache_redis_up: 'gauge',
  nlp_circuit_state: 'gauge', // model
  nlp_fallback_total: 'counter', // model, fallback
  nlp_confidence_score: 'gauge', // model
  nlp_prediction_share: 'gauge', // model, label
  nlp_drift_psi: 'gauge', // model, feature
  nlp_unknown_token_ratio: 'gauge', // model
  nlp_embedding_norm: 'gauge', // model, stat
  nlp_drift_norm_ratio: 'gauge', // model
  nlp_drift_window_size: 'gauge', // model
  nlp_drift_baseline: 'gauge', // model, stat (the model's reference values, constant)
  nlp_model_info: 'gauge', // model, version, state, task, weights
  nlp_model_traffic_share: 'gauge', // model, version
  nlp_version_texts_total: 'counter', // model, version
  nlp_model_reload_total: 'counter', // model, result
  nlp_model_problem: 'gauge', // model
  nlp_shadow_texts_total: 'counter', // model, version, result
  nlp_shadow_window_size: 'gauge', // model, version
  nlp_shadow_label_agreement: 'gauge', // model, version
  nlp_shadow_score_difference: 'gauge', // model, version, stat
  nlp_shadow_embedding_cosine: 'gauge', // model, version, stat
};

/** Node's process metrics, named as the gateway registers them (src/telemetry/process-metrics.ts). */
async function defaultMetrics(): Promise<Record<string, MetricType>> {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const families = await registry.getMetricsAsJSON();
  registry.clear();
  return Object.fromEntries(families.map((m) => [m.name, String(m.type) as MetricType]));
}

/** nlp_ metric names in a text; recording-rule names (level:metric:ops) are skipped. */
function metricNames(text: string): Set<string> {
  return new Set(text.match(/(?<![\w:])nlp_[a-z0-9_]*[a-z0-9](?![\w:])/g) ?? []);
}

/** Names that are neither a known family nor a histogram/summary family's _bucket/_sum/_count series. */
function unknownNames(names: Iterable<string>, families: Record<string, MetricType>): string[] {
  const unknown: string[] = [];
  for (const name of names) {
    if (families[name]) continue;
    const m = /^(.*)_(bucket|sum|count)$/.exec(name);
    const base = m ? families[m[1]!] : undefined;
    if (base === 'histogram' || (base === 'summary' && m![2] !== 'bucket')) continue;
    unknown.push(name);
  }
  return unknown.sort();
}

// ---------------------------------------------------------------------------------------- promtool

const PROMTOOL = process.env.PROMTOOL ?? ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p)) ?? 'promtool';
const SKIP_PROMTOOL = process.env.NLP_SKIP_PROMTOOL === '1';

interface Run {
  code: number | string | null;
  output: string;
}

function promtool(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(PROMTOOL, args, { cwd: REPO, timeout: 20_000 }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (!error) return resolve({ code: 0, output });
      const code = (error as NodeJS.ErrnoException).code ?? error.signal ?? null;
      const hint =
        code === 'ENOENT' ? `\n${PROMTOOL} not found: apt-get install prometheus, set PROMTOOL, or NLP_SKIP_PROMTOOL=1 to skip` : '';
      resolve({ code: code ?? 1, output: `${output || error.message}${hint}` });
    });
  });
}

async function expectPromtoolOk(...args: string[]): Promise<string> {
  const run = await promtool(...args);
  expect(run.code, `promtool ${args.join(' ')} failed (exit ${run.code}):\n${run.output}`).toBe(0);
  return run.output;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'nlp-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ------------------------------------------------------------------------------------- dashboard

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  fieldConfig?: { defaults?: { thresholds?: { steps: { value: number | null }[] }; custom?: { thresholdsStyle?: { mode: string } } } };
}
interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
}

const dashboardText = readFileSync(DASHBOARD, 'utf8');
const dashboard = JSON.parse(dashboardText) as Dashboard;
/** Every panel, rows and panels nested in collapsed rows included. */
const allPanels: Panel[] = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const graphPanels = allPanels.filter((p) => p.type !== 'row');
const exprs = graphPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t })));

/** A dashboard query as Prometheus sees it once Grafana has filled in its variables. */
const asPromQL = (expr: string) =>
  expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '1m').replace(/\$\{?(job|instance|model)\}?/g, '.*');

describe('Prometheus rules and config (promtool)', () => {
  it.skipIf(SKIP_PROMTOOL)('alerts.yml passes promtool check rules, lint errors fatal', async () => {
    const out = await expectPromtoolOk('check', 'rules', '--lint=all', '--lint-fatal', ALERTS);
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });

  it.skipIf(SKIP_PROMTOOL)('the alert unit tests in alerts.test.yml pass', async () => {
    await expectPromtoolOk('test', 'rules', ALERT_TESTS);
  });

  it.skipIf(SKIP_PROMTOOL)('prometheus.yml passes promtool check config (and loads alerts.yml)', async () => {
    const out = await expectPromtoolOk('check', 'config', '--lint-fatal', CONFIG);
    expect(out).toMatch(/1 rule files found/);
  });

  it.skipIf(SKIP_PROMTOOL)('every dashboard query is valid PromQL', async () => {
    // promtool has no offline query parser, but it parses rule expressions: one rule per query.
    const lines = ['groups:', '  - name: dashboard-queries', '    rules:'];
    for (const { panel, target } of exprs) {
      lines.push(`      - record: dashboard:panel_${panel.id}_${target.refId}`, `        expr: ${JSON.stringify(asPromQL(target.expr ?? ''))}`);
    }
    const file = path.join(tmp, 'dashboard-queries.yml');
    writeFileSync(file, `${lines.join('\n')}\n`);
    await expectPromtoolOk('check', 'rules', file);
  });
});

describe('alerts.yml', () => {
  const text = readFileSync(ALERTS, 'utf8');
  // One block per rule, from its "- alert:"/"- record:" line to the next rule or group.
  const blocks = text.split(/^(?=\s*- (?:alert|record|name):)/m);
  const alerts = new Map<string, string>();
  for (const block of blocks) {
    const m = /^\s*- alert:\s*(\S+)/.exec(block);
    if (m) alerts.set(m[1]!, block);
  }

  it('has the expected alerts in group nlp-gateway', () => {
    expect(text).toMatch(/^\s*- name: nlp-gateway\s*$/m);
    expect([...alerts.keys()].sort()).toEqual(
      expect.arrayContaining([
        'NlpGatewayDown',
        'NlpGatewayHighErrorRate',
        'NlpGatewayHighLatencyP99',
        'NlpGatewayQueueDepthHigh',
        'NlpGatewayOverloaded',
        'NlpGatewayCircuitOpen',
        'NlpGatewayFallbackRateHigh',
        'NlpGatewayRedisDown',
        'NlpGatewayDriftPSIHigh',
        'NlpGatewayUnknownTokenRatioHigh',
        'NlpGatewayConfidenceDrop',
        'NlpGatewayEventLoopLagHigh',
      ]),
    );
  });

  it('every alert has for, a severity, and summary, description and runbook annotations', () => {
    const problems: string[] = [];
    for (const [name, block] of alerts) {
      for (const [what, re] of [
        ['for:', /^\s+for:\s*\d+[smhd]\s*$/m],
        ['severity', /^\s+severity:\s*(critical|warning|info)\s*$/m],
        ['summary', /^\s+summary:\s*\S/m],
        ['description', /^\s+description:\s*\S/m],
        ['runbook', /^\s+runbook:\s*\S/m],
      ] as const) {
        if (!re.test(block)) problems.push(`${name}: no ${what}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('drift alerts require a full enough window', () => {
    for (const name of ['NlpGatewayDriftPSIHigh', 'NlpGatewayUnknownTokenRatioHigh']) {
      expect(alerts.get(name), name).toMatch(/nlp_drift_window_size >= 500/);
    }
  });

  it('every alert is exercised by alerts.test.yml or documented in README.md', () => {
    const tests = readFileSync(ALERT_TESTS, 'utf8');
    const readme = readFileSync(README, 'utf8');
    const untested = [...alerts.keys()].filter((name) => !tests.includes(`alertname: ${name}`));
    // TargetMissing uses absent(), which a unit test can only show firing with no input at all.
    expect(untested.filter((n) => n !== 'NlpGatewayTargetMissing')).toEqual([]);
    expect([...alerts.keys()].filter((name) => !readme.includes(name))).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  it('is a dashboard of the expected shape', () => {
    expect(dashboard.uid).toBe('nlp-gateway');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const rows = allPanels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Traffic', 'Latency', 'Batching', 'Resilience', 'Drift', 'Model versions', 'Process']);
  });

  it('has unique panel ids and non-overlapping positions', () => {
    const ids = allPanels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size, `duplicate ids in ${ids.join(',')}`).toBe(ids.length);
    const overlaps: string[] = [];
    const top = dashboard.panels;
    for (let i = 0; i < top.length; i++) {
      for (let j = i + 1; j < top.length; j++) {
        const a = top[i]!.gridPos;
        const b = top[j]!.gridPos;
        if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) overlaps.push(`${top[i]!.title} / ${top[j]!.title}`);
      }
    }
    expect(overlaps).toEqual([]);
    expect(top.every((p) => p.gridPos.x + p.gridPos.w <= 24)).toBe(true);
  });

  it('every panel has a PromQL target on the templated data source', () => {
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(ds?.query).toBe('prometheus');
    const uid = `\${${ds!.name}}`;
    const problems: string[] = [];
    for (const p of graphPanels) {
      const targets = p.targets ?? [];
      if (!targets.some((t) => typeof t.expr === 'string' && t.expr.trim() !== '')) problems.push(`${p.title}: no target with an expr`);
      if (p.datasource?.uid !== uid) problems.push(`${p.title}: panel data source ${p.datasource?.uid}`);
      const refIds = targets.map((t) => t.refId);
      if (new Set(refIds).size !== refIds.length) problems.push(`${p.title}: duplicate refIds`);
      for (const t of targets) if (t.datasource?.uid !== uid) problems.push(`${p.title} ${t.refId}: target data source ${t.datasource?.uid}`);
    }
    expect(problems).toEqual([]);
  });

  it('has a model variable from nlp_requests_total', () => {
    const model = dashboard.templating.list.find((v) => v.name === 'model');
    expect(model?.type).toBe('query');
    expect(JSON.stringify(model?.query)).toMatch(/label_values\(nlp_requests_total[^,]*, model\)/);
  });

  it('draws PSI threshold lines at 0.1 and 0.25', () => {
    const psi = graphPanels.find((p) => p.targets?.some((t) => t.expr?.includes('nlp_drift_psi')));
    const defaults = psi?.fieldConfig?.defaults;
    expect(defaults?.custom?.thresholdsStyle?.mode).toMatch(/line/);
    expect(defaults?.thresholds?.steps.map((s) => s.value)).toEqual([null, 0.1, 0.25]);
  });
});

describe('metric names in deploy/ match what the gateway exports', () => {
  it('every nlp_ metric named in the dashboard, rules, rule tests and README exists', async () => {
    const families = { ...(await defaultMetrics()), ...GATEWAY_METRICS };
    // A sanity check that the defaults came out with the gateway's prefix.
    expect(families.nlp_process_cpu_seconds_total).toBe('counter');
    const problems: string[] = [];
    for (const file of [DASHBOARD, ALERTS, ALERT_TESTS, CONFIG, COMPOSE_CONFIG]) {
      const unknown = unknownNames(metricNames(readFileSync(file, 'utf8')), families);
      if (unknown.length) problems.push(`${path.relative(REPO, file)}: ${unknown.join(', ')}`);
    }
    // The README and the Kubernetes files may also name the custom metrics prometheus-adapter serves
    // to the HPA (deploy/k8s/prometheus-adapter/rules.yaml), and nothing else.
    const adapterText = readFileSync(ADAPTER_RULES, 'utf8');
    const served = Object.fromEntries([...adapterText.matchAll(/^\s+as: "(nlp_\w+)"$/gm)].map((m) => [m[1]!, 'gauge' as MetricType]));
    expect(Object.keys(served).length).toBeGreaterThanOrEqual(3);
    for (const file of [README, ADAPTER_RULES, HPA]) {
      const unknown = unknownNames(metricNames(readFileSync(file, 'utf8')), { ...families, ...served });
      if (unknown.length) problems.push(`${path.relative(REPO, file)}: ${unknown.join(', ')}`);
    }
    expect(problems, 'unknown metric names (typo, or a metric the gateway does not export)').toEqual([]);
  });

  it('the dashboard shows every gateway metric family', () => {
    const used = new Set([...metricNames(dashboardText)].map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    expect(Object.keys(GATEWAY_METRICS).filter((name) => !used.has(name))).toEqual([]);
  });

  it('the name check itself catches typos and stray suffixes', () => {
    const families: Record<string, MetricType> = { nlp_a_seconds: 'histogram', nlp_b_total: 'counter' };
    expect(unknownNames(['nlp_a_seconds_bucket', 'nlp_a_seconds_count', 'nlp_b_total'], families)).toEqual([]);
    expect(unknownNames(['nlp_b_total_count', 'nlp_a_second', 'nlp_c'], families)).toEqual(['nlp_a_second', 'nlp_b_total_count', 'nlp_c']);
    expect([...metricNames('rate(nlp_a_seconds_bucket[5m]) job:nlp_requests:rate5m nlp-gateway `nlp_` nlp_x_')]).toEqual(['nlp_a_seconds_bucket']);
  });
});
