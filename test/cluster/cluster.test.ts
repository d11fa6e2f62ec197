// A loopback cluster, as operators run one: three gateway processes (the built server, deployed
// environment) sharing one redis-server (maxmemory + allkeys-lru), behind nginx (Debian) running
// deploy/nginx/nlp-gateway.conf: passive health checks, and failed attempts retried on another gateway,
// POST included (safe here: queries only). Under steady load through nginx:
//   - a rolling restart of all three (SIGTERM, wait until the replacement is ready, next): 0 failed;
//   - one replica SIGKILLed and restarted: failures counted, with and without retries of POST;
//   - Redis killed and restarted: 0 failed;
//   - cache hits shared across replicas.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startLoad, tally, type Load, type Outcome } from '../support/http-load.js';
import { sample, scrape } from '../support/metrics.js';
import { startNginx, type Nginx } from '../support/nginx.mjs';
import { freePort } from '../support/ports.mjs';
import { startRedis, type RedisHandle } from '../support/redis-server.js';

const CLASSIFY = 'query ($text: String!) { classify(text: $text) { label cached } }';
const EMBED = 'query ($text: String!) { embed(text: $text) { dimensions cached } }';
/** Texts that recur in the load, so that replicas find each other's answers in Redis. */
const POOL = 40;

function body(n: number): string {
  const repeated = n % 3 === 0;
  const text = repeated ? `Recurring message ${n % POOL}: the shipment is delayed, see the attached note.` : `Message ${n}: invoice ${n} is attached; please confirm by Friday.`;
  return JSON.stringify({ query: n % 5 === 0 ? EMBED : CLASSIFY, variables: { text } });
}

let redis: RedisHandle;
let nginx: Nginx;
const ports: number[] = [];
const gateways: GatewayProcess[] = [];
const report: string[] = [];

/** Every gateway process the file started, replaced ones included, for their logs. */
const started: GatewayProcess[] = [];
const start = async (port: number) => {
  const g = await startGatewayProcess({ PORT: String(port), REDIS_URL: redis.url, SHUTDOWN_GRACE_MS: '20000' });
  started.push(g);
  return g;
};
/** Warnings that say Redis was unavailable (health DEGRADED). */
const redisDown = () => started.flatMap((g) => g.logs).filter((l) => l.level === 40 && /redis|shared cache/i.test(l.msg));

beforeAll(async () => {
  redis = await startRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
  for (let i = 0; i < 3; i++) ports.push(await freePort());
  gateways.push(...(await Promise.all(ports.map(start))));
  await Promise.all(gateways.map((g) => g.waitReady()));
  const [port, strictPort] = [await freePort(), await freePort()];
  nginx = await startNginx({ port, upstreams: ports, strictPort });
});

afterAll(async () => {
  await nginx?.stop();
  await Promise.all(gateways.map((g) => g.stop('SIGKILL')));
  await redis?.stop();
  console.log(`\nloopback cluster (3 gateways, nginx, redis-server):\n  ${report.join('\n  ')}`);
});

const failures = (outcomes: readonly Outcome[]) => outcomes.filter((o) => o.kind !== 'ok');
const perSecond = (outcomes: readonly Outcome[]) => {
  const span = (Math.max(...outcomes.map((o) => o.endedAt)) - Math.min(...outcomes.map((o) => o.startedAt))) / 1000;
  return Math.round(outcomes.length / span);
};

async function steady(load: Load, more: number) {
  await load.untilOk(load.count('ok') + more, 120_000);
}

describe('loopback cluster behind nginx', () => {
  it('a rolling restart of all three replicas under load fails no client request', async () => {
    const load = startLoad({ url: nginx.url, concurrency: 12, body, idPrefix: 'roll' });
    await steady(load, 150);
    const exits: (number | null)[] = [];
    for (let i = 0; i < 3; i++) {
      exits.push(await gateways[i]!.stop('SIGTERM'));
      gateways[i] = await start(ports[i]!);
      await gateways[i]!.waitReady(120_000);
      await steady(load, 50);
    }
    await steady(load, 100);
    const outcomes = await load.stop();
    report.push(`rolling restart: ${outcomes.length} requests at ~${perSecond(outcomes)}/s, ${failures(outcomes).length} failed ${JSON.stringify(tally(outcomes))}; exit codes ${exits.join(', ')}`);
    expect(exits).toEqual([0, 0, 0]);
    expect(failures(outcomes)).toEqual([]);
    // A healthy Redis under this load and through restarts is never reported down (no flapping).
    expect(redisDown()).toEqual([]);
  }, 300_000);

  it('one replica SIGKILLed and restarted: counted, with and without retries of POST on another replica', async () => {
    // Half the clients through the site that retries POST (non_idempotent), half through the same
    // site without it (nginx's default), at once, so that both see the same kill.
    const retried = startLoad({ url: nginx.url, concurrency: 6, body, idPrefix: 'kill-retried' });
    const plain = startLoad({ url: nginx.strictUrl!, concurrency: 6, body, idPrefix: 'kill-plain' });
    await Promise.all([steady(retried, 100), steady(plain, 100)]);
    const victim = gateways[1]!;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBeNull();
    await Promise.all([steady(retried, 50), steady(plain, 50)]);
    gateways[1] = await start(ports[1]!);
    await gateways[1]!.waitReady(120_000);
    await Promise.all([steady(retried, 100), steady(plain, 100)]);
    const [a, b] = await Promise.all([retried.stop(), plain.stop()]);
    const resets = nginx.errorLog().split('\n').filter((l) => /prematurely closed|reset by peer|Connection refused/.test(l)).length;
    report.push(
      `SIGKILL + restart: with POST retries ${failures(a).length} of ${a.length} failed ${JSON.stringify(tally(failures(a)))}; ` +
        `without (nginx default) ${failures(b).length} of ${b.length} failed ${JSON.stringify(failures(b).map((o) => o.status))}; nginx logged ${resets} upstream resets/refusals`,
    );
    // Retrying POST on another replica recovers every request the killed replica held.
    expect(failures(a)).toEqual([]);
  }, 300_000);

  it('Redis killed and restarted under load: no request fails, and the replicas use Redis again', async () => {
    const load = startLoad({ url: nginx.url, concurrency: 12, body, idPrefix: 'redis' });
    await steady(load, 100);
    await redis.stop();
    // At least 2 s down, and 150 answers meanwhile.
    await Promise.all([steady(load, 150), sleep(2_000)]);
    await redis.restart();
    const deadline = Date.now() + 20_000;
    for (const g of gateways) {
      while (sample(await scrape(g.base), 'nlp_cache_redis_up', {}) !== 1) {
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(100);
      }
    }
    await steady(load, 100);
    const outcomes = await load.stop();
    report.push(`Redis killed and restarted: ${outcomes.length} requests, ${failures(outcomes).length} failed`);
    expect(failures(outcomes)).toEqual([]);
    // ...and the outage was visible: each replica warned that Redis was unavailable.
    expect(redisDown().length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('replicas share cached answers through Redis', async () => {
    const text = `Shared across the cluster ${Date.now()}: your parcel is ready for pickup.`;
    const ask = async (g: GatewayProcess) => {
      const res = await fetch(g.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: CLASSIFY, variables: { text } }) });
      return ((await res.json()) as { data: { classify: { cached: boolean } } }).data.classify.cached;
    };
    expect(await ask(gateways[0]!)).toBe(false);
    await sleep(200); // the write to Redis is asynchronous
    expect([await ask(gateways[1]!), await ask(gateways[2]!)]).toEqual([true, true]);
    const hits = await Promise.all(gateways.map(async (g) => sample(await scrape(g.base), 'nlp_cache_requests_total', { tier: 'redis', result: 'hit' })));
    report.push(`Redis hits per replica (since each replica's start): ${hits.join(', ')}`);
    expect(hits.filter((h) => h > 0).length).toBeGreaterThanOrEqual(2);
  });
});
