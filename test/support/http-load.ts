// Steady load for lifecycle and cluster tests: `concurrency` clients, each sending one GraphQL request
// after another over keep-alive connections (node:http, as a service calling the gateway would), each
// with its own X-Request-Id, and every outcome recorded: what came back, or how the connection failed.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export type OutcomeKind =
  /** 200 with data and no errors. */
  | 'ok'
  /** 503 SHUTTING_DOWN: the gateway is draining (the client should go elsewhere). */
  | 'shutting-down'
  /** 503 MODEL_UNAVAILABLE: the gateway is still loading. */
  | 'loading'
  /** The connection was refused: nothing listens (the request was never accepted). */
  | 'refused'
  /**
   * The connection closed before any byte of an answer: a reused keep-alive connection the server
   * closed as idle while the request was on its way (HTTP lets a client retry it; Node's
   * documentation says to, see `request.reusedSocket`), or a new connection still in the listen
   * backlog when the listener closed (the kernel resets those). Whether the server had read the
   * request, the client cannot tell: tests check that on the server's side.
   */
  | 'closed-unanswered'
  /** Anything else: an error answer, or a connection lost after the request was accepted. */
  | 'failed';

export interface Outcome {
  id: string;
  kind: OutcomeKind;
  status?: number;
  code?: string;
  /** The response said `Connection: close`. */
  connectionClose?: boolean;
  detail?: string;
  startedAt: number;
  endedAt: number;
}

export interface LoadOptions {
  url: string;
  concurrency: number;
  /** The JSON body of request number `n`. */
  body: (n: number) => string;
  /** Prefix of request ids, to find them in logs. */
  idPrefix?: string;
  /** Pause after a refused or failed request, so that a dead target is not hammered in a tight loop. */
  pauseAfterErrorMs?: number;
}

export interface Load {
  outcomes: Outcome[];
  count(kind: OutcomeKind): number;
  /** Resolves once `n` requests have been answered ok. */
  untilOk(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<Outcome[]>;
}

export function startLoad(options: LoadOptions): Load {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const outcomes: Outcome[] = [];
  const target = new URL(options.url);
  let sent = 0;
  let stopped = false;

  const one = (): Promise<Outcome> => {
    const n = sent++;
    const id = `${options.idPrefix ?? 'load'}-${n}`;
    const body = options.body(n);
    const startedAt = performance.now();
    return new Promise((resolve) => {
      const done = (o: Omit<Outcome, 'id' | 'startedAt' | 'endedAt'>) => resolve({ id, startedAt, endedAt: performance.now(), ...o });
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': id },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('error', (e) => done({ kind: 'failed', status: res.statusCode, detail: `response lost: ${e.message}` }));
          res.on('end', () => {
            const connectionClose = /close/i.test(res.headers.connection ?? '');
            let parsed: { data?: unknown; errors?: { extensions?: { code?: string } }[] } = {};
            try {
              parsed = JSON.parse(text) as typeof parsed;
            } catch {
              return done({ kind: 'failed', status: res.statusCode, connectionClose, detail: `not JSON: ${text.slice(0, 80)}` });
            }
            const code = parsed.errors?.[0]?.extensions?.code;
            const status = res.statusCode;
            if (status === 200 && parsed.data && !parsed.errors) return done({ kind: 'ok', status, connectionClose });
            if (status === 503 && code === 'SHUTTING_DOWN') return done({ kind: 'shutting-down', status, code, connectionClose });
            if (status === 503 && code === 'MODEL_UNAVAILABLE') return done({ kind: 'loading', status, code, connectionClose });
            done({ kind: 'failed', status, code, connectionClose, detail: text.slice(0, 200) });
          });
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ECONNREFUSED') return done({ kind: 'refused', detail: e.code });
        if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return done({ kind: 'closed-unanswered', detail: `${e.code}${req.reusedSocket ? ' (reused connection)' : ''}` });
        done({ kind: 'failed', detail: `${e.code ?? ''} ${e.message} (reused socket: ${req.reusedSocket})` });
      });
      req.end(body);
    });
  };

  const okWaiters: Array<{ n: number; wake: () => void }> = [];
  let ok = 0;
  const client = async () => {
    while (!stopped) {
      const outcome = await one();
      outcomes.push(outcome);
      if (outcome.kind === 'ok') {
        ok++;
        for (const w of okWaiters.filter((w) => ok >= w.n)) w.wake();
      } else if (outcome.kind !== 'shutting-down' && outcome.kind !== 'loading') {
        await sleep(options.pauseAfterErrorMs ?? 20);
      }
    }
  };
  const clients = Array.from({ length: options.concurrency }, client);

  return {
    outcomes,
    count: (kind) => outcomes.filter((o) => o.kind === kind).length,
    untilOk(n, timeoutMs = 60_000) {
      if (ok >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${ok} of ${n} requests answered ok after ${timeoutMs} ms`)), timeoutMs);
        okWaiters.push({
          n,
          wake: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async stop() {
      stopped = true;
      await Promise.all(clients);
      agent.destroy();
      return outcomes;
    },
  };
}

/** Outcomes by kind, for assertion messages and reports. */
export function tally(outcomes: readonly Outcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) out[o.kind] = (out[o.kind] ?? 0) + 1;
  return out;
}
