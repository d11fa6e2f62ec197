// Shutdown as deployed: the built server as a child process, its environment a container's (no
// NODE_ENV, or NODE_ENV=production or test set explicitly), the built-in models under steady load
// from 16 keep-alive clients, then SIGTERM or SIGINT. What a rolling update needs:
//   readiness fails at once; requests in flight and queued finish; new ones get 503 SHUTTING_DOWN
//   with Connection: close; idle keep-alive connections are closed; responses finished during the
//   drain say Connection: close; exit code 0 and "stopped" logged; no accepted request lost.
// One request is held in flight by the test (its body half sent), so that the drain lasts as long as
// the test needs to look at it, with no guess about timing.
import { describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { holdRequest, idleConnection, postOnce } from '../support/held-request.js';
import { startLoad, tally, type Outcome } from '../support/http-load.js';
import { until } from '../support/wait.js';

const CLASSIFY = 'query ($text: String!) { classify(text: $text) { label score } }';
const CLASSIFY_BATCH = 'query ($texts: [String!]!) { classifyBatch(texts: $texts) { label } }';

/** Unique texts (no cache hits), one request in four a batch of 8, so that work queues up. */
function body(n: number): string {
  if (n % 4 === 0) {
    const texts = Array.from({ length: 8 }, (_, i) => `Batch ${n} item ${i}: please confirm the delivery address for order ${n * 8 + i}.`);
    return JSON.stringify({ query: CLASSIFY_BATCH, variables: { texts } });
  }
  return JSON.stringify({ query: CLASSIFY, variables: { text: `Request ${n}: your invoice ${n} is attached, reply to claim the refund now` } });
}

/**
 * Every request the gateway accepted (logged with its request id) was answered ok; the gateway cut
 * no request short; nothing failed; a connection closed before an answer only after the signal (a
 * keep-alive connection closed idle, or one still in the listen backlog when the listener closed:
 * requests the gateway never read, which is what `cut: 0` and the log show).
 */
function checkNothingLost(gw: GatewayProcess, outcomes: readonly Outcome[], signalAt: number, prefix: string) {
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  const accepted = gw.logs.filter((l) => l.msg === 'graphql request' && String(l.requestId).startsWith(`${prefix}-`)).map((l) => String(l.requestId));
  const lost = accepted.filter((id) => byId.get(id)?.kind !== 'ok');
  expect(lost, 'accepted requests not answered ok').toEqual([]);
  const failed = outcomes.filter((o) => o.kind === 'failed' || (o.kind === 'closed-unanswered' && o.startedAt < signalAt));
  expect(gw.logs.find((l) => l.msg === 'stopped')?.cut).toBe(0);
  expect(failed, 'failed requests').toEqual([]);
  return accepted.length;
}

const NODE_ENVS = [undefined, 'production', 'test'] as const;
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const CASES = NODE_ENVS.flatMap((nodeEnv) => SIGNALS.map((signal) => ({ nodeEnv, signal })));

describe('shutdown under load', () => {
  it.each(CASES)('$signal with NODE_ENV=$nodeEnv: drains, loses no accepted request, exits 0', async ({ nodeEnv, signal }) => {
    const gw = await startGatewayProcess({ SHUTDOWN_GRACE_MS: '30000', ...(nodeEnv ? { NODE_ENV: nodeEnv } : {}) });
    const prefix = `${signal}-${nodeEnv ?? 'unset'}`;
    let load;
    try {
      await gw.waitReady();
      load = startLoad({ url: gw.url, concurrency: 16, body, idPrefix: prefix });
      await load.untilOk(100);
      const held = holdRequest(gw.url, JSON.stringify({ query: CLASSIFY, variables: { text: 'held in flight through the drain' } }));
      await held.accepted;
      const idle = await idleConnection(gw.base);

      const signalAt = performance.now();
      gw.child.kill(signal);
      // Readiness fails as soon as the signal is handled. (fetch's pooled keep-alive connection may be
      // one the drain closes as idle: that attempt fails and the next opens a new connection.)
      await until(async () => (await fetch(`${gw.base}/readyz`).catch(() => undefined))?.status === 503, '/readyz 503', 10_000, 10);
      // New requests: 503 SHUTTING_DOWN, Connection: close, Retry-After, a GraphQL error body.
      const refused = await postOnce(gw.url, body(1));
      expect(refused.status).toBe(503);
      expect(refused.headers.connection).toBe('close');
      expect(refused.headers['retry-after']).toBe('1');
      expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('SHUTTING_DOWN');
      // Idle keep-alive connections are closed by the server while the drain goes on.
      await idle.closedByServer;
      expect(gw.child.exitCode).toBeNull();

      // The held request completes normally, and its response closes its connection.
      const answer = await held.finish();
      expect(answer.status).toBe(200);
      expect(answer.headers.connection).toBe('close');
      expect(JSON.parse(answer.text).data.classify.label).toMatch(/^(ham|spam)$/);

      expect(await gw.exited).toBe(0);
      const outcomes = await load.stop();
      const accepted = checkNothingLost(gw, outcomes, signalAt, prefix);
      const afterSignal = outcomes.filter((o) => o.endedAt >= signalAt);
      // Work was in flight at the signal, and finished: answered ok after the signal.
      expect(afterSignal.filter((o) => o.kind === 'ok').length).toBeGreaterThan(0);
      const draining = gw.logs.find((l) => l.msg === 'draining')!;
      const stopped = gw.logs.find((l) => l.msg === 'stopped')!;
      expect(gw.logs.find((l) => l.msg === 'shutdown requested')?.signal).toBe(signal);
      expect(stopped).toMatchObject({ drained: true, clean: true });
      expect(gw.logs.some((l) => l.level >= 50)).toBe(false);
      console.log(
        `${signal} NODE_ENV=${nodeEnv ?? '(unset)'}: ${accepted} accepted, all answered; in flight at the signal ${draining.inFlight}; ` +
          `after the signal ${JSON.stringify(tally(afterSignal))}; stopped after ${stopped.ms} ms`,
      );
    } finally {
      await load?.stop();
      await gw.stop('SIGKILL');
    }
  });

  it('the whole shutdown fits in SHUTDOWN_GRACE_MS: a request that never completes is cut at the deadline', async () => {
    const graceMs = 3_000;
    const gw = await startGatewayProcess({ SHUTDOWN_GRACE_MS: String(graceMs) });
    try {
      await gw.waitReady();
      // The body never completes: the request stays in flight until the gateway gives up on it.
      const stuck = holdRequest(gw.url, JSON.stringify({ query: CLASSIFY, variables: { text: 'never finished' } }));
      await stuck.accepted;
      gw.child.kill('SIGTERM');
      await expect(stuck.answer).rejects.toThrow();
      expect(await gw.exited).toBe(0);
      const at = (msg: string) => Date.parse(String(gw.logs.find((l) => l.msg === msg)?.time));
      const took = at('stopped') - at('shutdown requested');
      expect(gw.logs.some((l) => l.msg === 'grace period over; closing requests still in progress')).toBe(true);
      // Exactly one grace period (before: our wait, then Apollo's drain plugin waited a second one).
      // Within the grace period, plus what a loaded machine may add to a timer.
      expect(took).toBeGreaterThanOrEqual(graceMs * 0.7);
      expect(took).toBeLessThan(graceMs * 1.5);
      console.log(`grace ${graceMs} ms: signal to "stopped" in ${took} ms`);
    } finally {
      await gw.stop('SIGKILL');
    }
  });
});
