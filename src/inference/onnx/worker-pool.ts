// A ModelRunner over worker threads, each holding its own onnxruntime session of the same model and
// running one call at a time. The scheduler decides what runs when; the pool only runs calls on free
// workers, times them out (the timeout starts when the worker starts the call), and keeps the pool
// whole: a worker that dies or overruns is terminated and replaced, with backoff, and counted.
import { Worker } from 'node:worker_threads';
import { CallTimeoutError, type CallInput, type CallOutput, type ModelRunner, type PostProcess } from '../runner.js';
import { workerScript } from '../worker-script.js';
import type { OnnxSettings } from './session-options.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

type Ready = Extract<WorkerReply, { type: 'ready' }>;

export interface PoolOptions {
  /** How much lower than the event loop the inference threads run (nice steps; 0: same priority). */
  nice: number;
  /** Longest one call may run on a worker before the worker is replaced. */
  timeoutMs: number;
  post: PostProcess;
  padId: number;
  warn: (msg: string, fields: Record<string, unknown>) => void;
  /** Told of each replacement: why, and how long it waited first. */
  onRestart?: (reason: 'died' | 'timeout', delayMs: number) => void;
}

/** Replacement delays: 0 for an isolated failure, then doubling from 100 ms up to 30 s while failures repeat. */
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 30_000;
/** A worker that answered a call (or lived this long) resets the backoff. */
const HEALTHY_AFTER_MS = 60_000;

interface Running {
  resolve: (out: CallOutput) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

class SessionWorker {
  private nextId = 0;
  private readonly calls = new Map<number, Running>();
  private closing = false;
  readonly bornAt = Date.now();

  private constructor(
    private readonly worker: Worker,
    readonly ready: Ready,
    private readonly onExit: (w: SessionWorker, error: Error) => void,
  ) {
    worker.on('message', (m: WorkerReply) => this.onMessage(m));
    worker.on('error', (e) => this.die(e));
    worker.on('exit', (code) => this.die(new Error(`inference worker exited with code ${code}`)));
  }

  static spawn(file: string, settings: OnnxSettings, options: PoolOptions, onExit: (w: SessionWorker, error: Error) => void): Promise<SessionWorker> {
    const worker = new Worker(workerScript('onnx/session-worker.js'));
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        void worker.terminate();
        reject(e);
      };
      worker.once('error', fail);
      worker.once('exit', (code) => fail(new Error(`inference worker exited with code ${code} while loading`)));
      worker.once('message', (m: WorkerReply) => {
        worker.removeAllListeners('error').removeAllListeners('exit');
        if (m.type === 'ready') resolve(new SessionWorker(worker, m, onExit));
        else fail(new Error(m.type === 'error' ? m.message : `unexpected reply ${m.type}`));
      });
      const init: WorkerRequest = { type: 'init', file, settings, nice: options.nice, post: options.post, padId: options.padId };
      worker.postMessage(init);
    });
  }

  get busy(): boolean {
    return this.calls.size > 0;
  }

  run(input: CallInput, timeoutMs: number, onTimeout: () => void): Promise<CallOutput> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id);
        reject(new CallTimeoutError(timeoutMs));
        onTimeout();
      }, timeoutMs);
      this.calls.set(id, { resolve, reject, timer });
      const msg: WorkerRequest = { type: 'run', id, ids: input.ids, lengths: input.lengths };
      // Handed over, not copied: the caller does not use the arrays again.
      this.worker.postMessage(msg, [input.ids.buffer as ArrayBuffer, input.lengths.buffer as ArrayBuffer]);
    });
  }

  ping(): Promise<number> {
    const id = ++this.nextId;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve: () => resolve(performance.now() - started), reject, timer: undefined });
      this.worker.postMessage({ type: 'ping', id } satisfies WorkerRequest);
    });
  }

  /** Stops the thread; calls still running fail with `error`. */
  async terminate(error: Error): Promise<void> {
    this.closing = true;
    this.failAll(error);
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private onMessage(m: WorkerReply): void {
    if (m.type === 'ready') return;
    const call = m.id === null ? undefined : this.calls.get(m.id);
    if (!call) return; // timed out already
    this.calls.delete(m.id!);
    clearTimeout(call.timer);
    if (m.type === 'result') call.resolve({ values: m.values, width: m.width, norms: m.norms, computeMs: m.computeMs });
    else if (m.type === 'pong') call.resolve(undefined as unknown as CallOutput);
    else call.reject(new Error(m.message));
  }

  private failAll(error: Error): void {
    for (const call of this.calls.values()) {
      clearTimeout(call.timer);
      call.reject(error);
    }
    this.calls.clear();
  }

  private die(error: Error): void {
    if (this.closing) return;
    this.closing = true;
    this.failAll(error);
    this.onExit(this, error);
  }
}

export class WorkerPool implements ModelRunner {
  private readonly workers: SessionWorker[] = [];
  private closed = false;
  /** Consecutive replacements without a healthy worker in between (drives the backoff). */
  private failures = 0;
  private readonly pendingRestarts = new Set<NodeJS.Timeout>();
  onCapacity: (() => void) | undefined;
  /** Workers replaced, by reason. */
  readonly restarts = { died: 0, timeout: 0 };

  private constructor(
    private readonly file: string,
    private readonly settings: OnnxSettings,
    private readonly size: number,
    private readonly options: PoolOptions,
    private readonly first: Ready,
  ) {}

  /** Starts `size` workers; fails (closing any started) if one cannot load the model. */
  static async open(file: string, settings: OnnxSettings, size: number, options: PoolOptions): Promise<WorkerPool> {
    const started: SessionWorker[] = [];
    let pool: WorkerPool | undefined;
    const onExit = (w: SessionWorker, e: Error) => pool?.replace(w, e, 'died');
    const spawned = await Promise.allSettled(Array.from({ length: size }, () => SessionWorker.spawn(file, settings, options, onExit)));
    for (const s of spawned) if (s.status === 'fulfilled') started.push(s.value);
    const failed = spawned.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed || started.length === 0) {
      await Promise.all(started.map((w) => w.terminate(new Error('pool is closed'))));
      throw failed?.reason ?? new Error('no inference worker started');
    }
    pool = new WorkerPool(file, settings, size, options, started[0]!.ready);
    pool.workers.push(...started);
    const { unavailable, provider } = pool.first;
    if (unavailable.length > 0) options.warn('execution provider unavailable, falling back', { requested: unavailable, using: [provider] });
    return pool;
  }

  get inputNames(): readonly string[] {
    return this.first.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.first.outputNames;
  }

  /** The graph output the workers read. */
  get output(): string {
    return this.first.output;
  }

  get executionProvider(): string {
    return this.first.provider;
  }

  get capacity(): number {
    return this.workers.length;
  }

  get shape(): { workers: number; threads: number } {
    return { workers: this.size, threads: this.settings.ORT_INTRA_OP_THREADS };
  }

  run(input: CallInput): Promise<CallOutput> {
    if (this.closed) return Promise.reject(new Error('runner is closed'));
    const worker = this.workers.find((w) => !w.busy);
    if (!worker) return Promise.reject(new Error('no free inference worker (the scheduler runs at most `capacity` calls at once)'));
    return worker.run(input, this.options.timeoutMs, () => this.replace(worker, new CallTimeoutError(this.options.timeoutMs), 'timeout')).then((out) => {
      this.failures = 0;
      return out;
    });
  }

  async ping(): Promise<number> {
    const worker = this.workers.find((w) => !w.busy);
    return worker ? worker.ping() : 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.pendingRestarts) clearTimeout(t);
    await Promise.all(this.workers.splice(0).map((w) => w.terminate(new Error('runner is closed'))));
  }

  /** Takes `worker` out of the pool at once and starts a replacement after the backoff. */
  private replace(worker: SessionWorker, error: Error, reason: 'died' | 'timeout'): void {
    const at = this.workers.indexOf(worker);
    if (at < 0 || this.closed) return;
    this.workers.splice(at, 1);
    if (reason === 'timeout') void worker.terminate(error);
    if (Date.now() - worker.bornAt >= HEALTHY_AFTER_MS) this.failures = 0;
    const delayMs = this.failures === 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.failures - 1));
    this.failures++;
    this.restarts[reason]++;
    this.options.onRestart?.(reason, delayMs);
    this.options.warn(reason === 'timeout' ? 'inference worker overran its call; replacing it' : 'inference worker died; replacing it', {
      error: error.message,
      delayMs,
      workers: this.workers.length,
    });
    this.respawn(delayMs);
  }

  private respawn(delayMs: number): void {
    const timer = setTimeout(() => {
      this.pendingRestarts.delete(timer);
      SessionWorker.spawn(this.file, this.settings, this.options, (w, e) => this.replace(w, e, 'died')).then(
        async (worker) => {
          if (this.closed) return worker.terminate(new Error('runner is closed'));
          this.workers.push(worker);
          this.onCapacity?.();
        },
        (e: unknown) => {
          // Could not even start: try again later, longer.
          this.options.warn('inference worker could not be replaced; retrying', { error: String((e as Error)?.message ?? e) });
          if (this.closed) return;
          this.failures++;
          this.respawn(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.failures - 1)));
        },
      );
    }, delayMs);
    this.pendingRestarts.add(timer);
  }
}
