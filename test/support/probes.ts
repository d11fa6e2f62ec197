// Probes that watch a gateway while a test attacks it: /healthz polled from a worker thread (its own
// event loop, so the test's own work cannot delay it), and the gateway's event-loop stall as the
// gateway measures it (prom-client's monitorEventLoopDelay: the longest delay since the last scrape).
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { sample, scrape } from './metrics.js';

export interface HealthReport {
  polls: number;
  failures: number;
  /** Slowest /healthz answer, in ms. */
  maxMs: number;
}

const HEALTH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
let polls = 0, failures = 0, maxMs = 0, running = true;
parentPort.on('message', () => { running = false; });
(async () => {
  while (running) {
    const started = performance.now();
    try {
      const res = await fetch(workerData.url, { signal: AbortSignal.timeout(workerData.timeoutMs) });
      await res.text();
      if (res.status !== 200) failures++;
    } catch { failures++; }
    maxMs = Math.max(maxMs, performance.now() - started);
    polls++;
    await new Promise((r) => setTimeout(r, workerData.intervalMs));
  }
  parentPort.postMessage({ polls, failures, maxMs });
})();
`;

/** Polls `${base}/healthz` every intervalMs until stopped; a poll fails on a non-200 or after timeoutMs. */
export function startHealthProbe(base: string, intervalMs = 25, timeoutMs = 5_000): { stop(): Promise<HealthReport> } {
  const worker = new Worker(HEALTH_WORKER, { eval: true, workerData: { url: `${base}/healthz`, intervalMs, timeoutMs } });
  const report = new Promise<HealthReport>((resolve, reject) => {
    worker.once('message', (r: HealthReport) => resolve(r));
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const r = await report;
      await worker.terminate();
      return r;
    },
  };
}

/** The gateway's longest event-loop delay since the previous call, in ms (the first call only resets it). */
export async function eventLoopStallMs(base: string): Promise<number> {
  return sample(await scrape(base), 'nlp_nodejs_eventloop_lag_max_seconds') * 1000;
}

/** Peak resident memory of a process so far (Linux VmHWM), in bytes. */
export function peakRssBytes(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}
