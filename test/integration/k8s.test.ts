// deploy/k8s without a cluster: the rendered overlays are what kustomize makes of the sources (when
// kubectl is installed), every object passes the Kubernetes schemas (kubernetes-models, offline), and
// what the manifests assume of the gateway is checked against a real gateway process started with the
// rendered ConfigMap's environment: probe paths and ports answer, the HPA's metrics come from series a
// real /metrics scrape has, the grace periods add up, and every variable is one the gateway knows.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFields, configSchema } from '../../src/config/config.js';
import { REPO, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { scrape } from '../support/metrics.js';
import { validateObject, type K8sObject } from '../support/k8s-schemas.js';

const run = promisify(execFile);
const K8S = path.join(REPO, 'deploy/k8s');
const RENDERED = ['cpu', 'gpu', 'prometheus-adapter'] as const;
const SOURCES: Record<(typeof RENDERED)[number], string> = { cpu: 'overlays/cpu', gpu: 'overlays/gpu', 'prometheus-adapter': 'prometheus-adapter' };
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));

const load = (file: string): K8sObject[] =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return d.toJS() as K8sObject;
  });
const rendered = Object.fromEntries(RENDERED.map((name) => [name, load(path.join(K8S, `rendered/${name}.yaml`))])) as Record<(typeof RENDERED)[number], K8sObject[]>;

function one(objects: K8sObject[], kind: string, name?: string): any {
  // Generated ConfigMaps carry kustomize's hash suffix: name-<10 characters>.
  const named = (n: string) => name === undefined || n === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(n);
  const found = objects.filter((o) => o.kind === kind && named(o.metadata.name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0];
}

const deploymentOf = (objects: K8sObject[]) => one(objects, 'Deployment', 'nlp-gateway');
const containerOf = (objects: K8sObject[]) => deploymentOf(objects).spec.template.spec.containers[0];
const envOf = (objects: K8sObject[]): Record<string, string> => one(objects, 'ConfigMap', 'nlp-gateway-env').data;

describe('rendered manifests', () => {
  it.skipIf(!KUBECTL)('are what kubectl kustomize makes of deploy/k8s today (npm run k8s:render)', async () => {
    for (const name of RENDERED) {
      const { stdout } = await run(KUBECTL!, ['kustomize', path.join(K8S, SOURCES[name])]);
      const committed = readFileSync(path.join(K8S, `rendered/${name}.yaml`), 'utf8').replace(/^#.*\n/, '');
      expect(stdout, `deploy/k8s/rendered/${name}.yaml is stale: npm run k8s:render`).toBe(committed);
    }
  });

  it('pass the Kubernetes schemas, object by object', () => {
    const problems: string[] = [];
    for (const name of RENDERED) {
      for (const object of rendered[name]) {
        const error = validateObject(object);
        if (error) problems.push(`${name}: ${object.kind}/${object.metadata.name}: ${error}`);
      }
    }
    expect(problems).toEqual([]);
    expect(rendered.cpu.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'Deployment',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'Service',
      'ServiceMonitor',
    ]);
  });

  it('the schema check itself catches a wrong type and a missing required field', () => {
    const deployment = structuredClone(deploymentOf(rendered.cpu));
    deployment.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(validateObject(deployment)).toMatch(/containerPort must be integer/);
    const service = structuredClone(one(rendered.cpu, 'Service', 'nlp-gateway'));
    delete service.spec.ports[0].port;
    expect(validateObject(service)).toMatch(/port/);
    expect(validateObject({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } })).toMatch(/no schema/);
  });

  it('select the pods they mean: Service, PDB, HPA, NetworkPolicies, ServiceMonitor', () => {
    for (const objects of [rendered.cpu, rendered.gpu]) {
      const deployment = deploymentOf(objects);
      const podLabels = deployment.spec.template.metadata.labels;
      const matches = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
      expect(matches(deployment.spec.selector.matchLabels)).toBe(true);
      expect(matches(one(objects, 'Service', 'nlp-gateway').spec.selector)).toBe(true);
      expect(matches(one(objects, 'PodDisruptionBudget').spec.selector.matchLabels)).toBe(true);
      expect(matches(one(objects, 'NetworkPolicy', 'nlp-gateway').spec.podSelector.matchLabels)).toBe(true);
      const service = one(objects, 'Service', 'nlp-gateway');
      expect(Object.entries(one(objects, 'ServiceMonitor').spec.selector.matchLabels).every(([k, v]) => service.metadata.labels[k] === v)).toBe(true);
      const hpa = one(objects, 'HorizontalPodAutoscaler');
      expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
      // Redis: only gateway pods may reach it, on the port REDIS_URL names, at the Service REDIS_URL names.
      const redis = one(objects, 'Deployment', 'nlp-gateway-redis');
      const redisPolicy = one(objects, 'NetworkPolicy', 'nlp-gateway-redis');
      expect(Object.entries(redisPolicy.spec.podSelector.matchLabels).every(([k, v]) => redis.spec.template.metadata.labels[k] === v)).toBe(true);
      expect(matches(redisPolicy.spec.ingress[0].from[0].podSelector.matchLabels)).toBe(true);
      const url = new URL(envOf(objects)['REDIS_URL']!);
      const redisService = one(objects, 'Service', 'nlp-gateway-redis');
      expect(url.hostname).toBe(redisService.metadata.name);
      expect(Number(url.port)).toBe(redisService.spec.ports[0].port);
      expect(redisService.spec.ports[0].port).toBe(redisPolicy.spec.ingress[0].ports[0].port);
    }
  });

  it('bound Redis memory with an eviction policy (a cache, not a store)', () => {
    const conf = one(rendered.cpu, 'ConfigMap', 'nlp-gateway-redis').data['redis.conf'] as string;
    expect(conf).toMatch(/^maxmemory \d+mb$/m);
    expect(conf).toMatch(/^maxmemory-policy allkeys-lru$/m);
    expect(conf).toMatch(/^save ""$/m);
    const maxMb = Number(/^maxmemory (\d+)mb$/m.exec(conf)![1]);
    const limit = one(rendered.cpu, 'Deployment', 'nlp-gateway-redis').spec.template.spec.containers[0].resources.limits.memory as string;
    expect(Number(/^(\d+)Mi$/.exec(limit)![1])).toBeGreaterThan(maxMb * 1.2);
  });

  it('give the drain its time: terminationGracePeriodSeconds = preStop sleep + SHUTDOWN_GRACE_MS + a margin', () => {
    for (const objects of [rendered.cpu, rendered.gpu]) {
      const pod = deploymentOf(objects).spec.template.spec;
      const preStop = pod.containers[0].lifecycle.preStop.exec.command as string[];
      expect(preStop[0]).toBe('sleep');
      const sleepS = Number(preStop[1]);
      const graceS = Number(envOf(objects)['SHUTDOWN_GRACE_MS']) / 1000;
      const margin = pod.terminationGracePeriodSeconds - sleepS - graceS;
      expect(sleepS).toBeGreaterThanOrEqual(2);
      expect(margin, 'seconds left for exit after the drain').toBeGreaterThanOrEqual(2);
      expect(margin).toBeLessThanOrEqual(15);
    }
  });

  it('run the gateway non-root on a read-only root filesystem, with requests and a memory limit', () => {
    for (const objects of [rendered.cpu, rendered.gpu]) {
      const pod = deploymentOf(objects).spec.template.spec;
      const c = pod.containers[0];
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.limits.memory).toBeDefined();
      expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toContain('/tmp');
    }
    // The API keys file is mounted from the Secret where API_KEYS_FILE says.
    const c = containerOf(rendered.cpu);
    const keysFile = envOf(rendered.cpu)['API_KEYS_FILE']!;
    const mount = c.volumeMounts.find((m: { mountPath: string }) => keysFile.startsWith(`${m.mountPath}/`));
    const volume = deploymentOf(rendered.cpu).spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name);
    const secret = one(rendered.cpu, 'Secret', volume.secret.secretName);
    expect(Object.keys(secret.stringData ?? secret.data)).toContain(path.basename(keysFile));
  });

  it('the gpu overlay asks for a GPU and puts the CUDA execution provider first', () => {
    const c = containerOf(rendered.gpu);
    expect(c.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(envOf(rendered.gpu)['ORT_EXECUTION_PROVIDERS']).toBe('cuda,cpu');
    expect(c.image).toMatch(/cuda/);
    expect(containerOf(rendered.cpu).resources.limits['nvidia.com/gpu']).toBeUndefined();
  });

  it('set only variables the gateway declares (src/config/config.ts), with values it accepts', () => {
    const known = new Set(Object.keys(configFields.shape));
    // Not the gateway's own: OpenTelemetry's, and API_KEYS_FILE, which the API keys work adds.
    const foreign = (k: string) => k.startsWith('OTEL_') || k === 'API_KEYS_FILE';
    for (const objects of [rendered.cpu, rendered.gpu]) {
      const env = envOf(objects);
      expect(Object.keys(env).filter((k) => !known.has(k) && !foreign(k))).toEqual([]);
      const parsed = configSchema.safeParse(env);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    }
  });
});

describe('manifests against a real gateway', () => {
  let gw: GatewayProcess;
  let metrics: string;
  const tmp = mkdtempSync(path.join(tmpdir(), 'nlp-k8s-'));

  beforeAll(async () => {
    // The CPU overlay's environment, less what only exists in a cluster (Redis, the keys file,
    // /app/models), on a free loopback port.
    const env = { ...envOf(rendered.cpu) };
    for (const key of ['REDIS_URL', 'API_KEYS_FILE', 'MODELS_DIR', 'PORT', 'HOST']) delete env[key];
    gw = await startGatewayProcess(env);
    await gw.waitReady();
    // Traffic, so that the per-request series exist.
    for (const query of ['{ classify(text: "hello there") { label } }', '{ embed(text: "hello there") { dimensions } }']) {
      const res = await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      expect(res.status).toBe(200);
    }
    metrics = await scrape(gw.base);
  });
  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    expect(await gw?.stop()).toBe(0);
  });

  it('probe paths answer as the probes expect, on the port the manifests name', async () => {
    const c = containerOf(rendered.cpu);
    const port = c.ports.find((p: { name: string }) => p.name === 'http');
    expect(port.containerPort).toBe(Number(envOf(rendered.cpu)['PORT']));
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect(c[probe].httpGet.port, probe).toBe('http');
      const res = await fetch(`${gw.base}${c[probe].httpGet.path}`);
      expect(res.status, `${probe} ${c[probe].httpGet.path}`).toBe(200);
    }
    expect(c.startupProbe.httpGet.path).toBe('/readyz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    const sm = one(rendered.cpu, 'ServiceMonitor').spec.endpoints[0];
    expect(sm.port).toBe('http');
    expect((await fetch(`${gw.base}${sm.path}`)).status).toBe(200);
    const service = one(rendered.cpu, 'Service', 'nlp-gateway');
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(one(rendered.cpu, 'NetworkPolicy', 'nlp-gateway').spec.ingress[0].ports[0].port).toBe('http');
  });

  it("the HPA's metrics are the adapter's, and the adapter's queries read series a real scrape has", async () => {
    const rules = (parseAllDocuments(one(rendered['prometheus-adapter'], 'ConfigMap', 'prometheus-adapter').data['config.yaml'])[0]!.toJS() as {
      rules: { seriesQuery: string; name: { matches: string; as: string }; metricsQuery: string }[];
    }).rules;
    const served = rules.map((r) => r.name.as);
    for (const objects of [rendered.cpu, rendered.gpu]) {
      const hpa = one(objects, 'HorizontalPodAutoscaler');
      const names = hpa.spec.metrics.map((m: { type: string; pods: { metric: { name: string } } }) => (m.type === 'Pods' ? m.pods.metric.name : m.type));
      expect(names.sort()).toEqual(['nlp_queue_depth', 'nlp_request_duration_seconds_p99', 'nlp_texts_per_second']);
      for (const name of names) expect(served).toContain(name);
    }
    const problems: string[] = [];
    const family = (series: string) => /^([a-zA-Z_:][\w:]*)/.exec(series)![1]!;
    const has = (name: string, labels: Record<string, string> = {}) =>
      metrics.split('\n').some((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
    for (const rule of rules) {
      const name = family(rule.seriesQuery);
      if (!new RegExp(rule.name.matches).test(name)) problems.push(`${rule.name.as}: ${rule.name.matches} does not match ${name}`);
      if (!has(name) && !metrics.includes(`\n${name} `)) problems.push(`${rule.name.as}: no ${name} in the scrape`);
      // Every other series a query reads, and the operation labels it filters on.
      for (const [, other] of rule.metricsQuery.matchAll(/\b(nlp_[a-z0-9_]+)\{/g)) {
        if (!metrics.includes(`\n${other}`)) problems.push(`${rule.name.as}: no ${other} in the scrape`);
      }
      for (const [, ops] of rule.metricsQuery.matchAll(/operation=~"([^"]+)"/g)) {
        for (const op of ops!.split('|')) if (!has(name, { operation: op })) problems.push(`${rule.name.as}: no ${name}{operation="${op}"}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it.skipIf(process.env.NLP_SKIP_PROMTOOL === '1')("the adapter's queries are valid PromQL (promtool)", async () => {
    const rules = (parseAllDocuments(readFileSync(path.join(K8S, 'prometheus-adapter/rules.yaml'), 'utf8'))[0]!.toJS() as { rules: { name: { as: string }; metricsQuery: string; seriesQuery: string }[] }).rules;
    // The adapter's template, filled in as it does for `kubectl get --raw .../pods/*/<metric>`.
    const lines = ['groups:', '  - name: adapter-queries', '    rules:'];
    for (const r of rules) {
      const series = /^([a-zA-Z_:][\w:]*)/.exec(r.seriesQuery)![1]!;
      const q = r.metricsQuery.replaceAll('<<.Series>>', series).replaceAll('<<.LabelMatchers>>', 'namespace="nlp",pod=~"nlp-gateway-.*"').replaceAll('<<.GroupBy>>', 'pod');
      lines.push(`      - record: adapter:${r.name.as}`, `        expr: ${JSON.stringify(q)}`);
    }
    const file = path.join(tmp, 'adapter.yml');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { stdout } = await run(process.env.PROMTOOL ?? 'promtool', ['check', 'rules', file]);
    expect(stdout).toMatch(/SUCCESS: 3 rules found/);
  });
});
