// A ModelRunner over worker threads, each holding its own onnxruntime session of the same model and
// running one call at a time. The scheduler decides what runs when; the pool only runs calls on free
// workers, times them out (the timeout starts when the worker starts the call), and keeps the pool
// whole: a worker that dies or overruns is replaced, with backoff, and counted.
//
// A thread is never terminated while onnxruntime is inside a call on it: the call would return into
// a torn-down thread and abort the whole process (measured with onnxruntime-node 1.30: exit 134,
// whether by Worker.terminate() or by process.exit()). So a worker that overruns is retired, not
// killed: its texts fail at once and a replacement takes its place, and the thread is stopped when
// its call finally returns. Until then it is counted as stuck (`stuck`).
import { Worker } from 'node:worker_threads';
import { CallTimeoutError, type CallInput, type CallOutput, type ModelRunner, type PostProcess, type ProbeResult } from '../runner.js';
import { workerScript } from '../worker-script.js';
import type { OnnxSettings } from './session-options.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

type Ready = Extract<WorkerReply, { type: 'ready' }>;

export interface PoolOptions {
  /** How much lower than the event loop the inference threads run (nice steps; 0: same priority). */
  nice: number;
  /** Longest one call may run on a worker before the worker is replaced. */
  timeoutMs: number;
  warn: (msg: string, fields: Record<string, unknown>) => void;
  /** Told of each replacement: why, and how long it waited first. */
  onRestart?: (reason: 'died' | 'timeout', delayMs: number) => void;
}

/** Replacement delays: 0 for an isolated failure, then doubling from 100 ms up to 30 s while failures repeat. */
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 30_000;
/** A worker that answered a call (or lived this long) resets the backoff. */
const HEALTHY_AFTER_MS = 60_000;

/** What a worker does after init (a replacement worker is configured as its predecessor was). */
interface Setup {
  post: PostProcess;
  padId: number;
}

interface Waiting {
  resolve: (reply: WorkerReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

class SessionWorker {
  private nextId = 0;
  /** Requests whose caller still waits (a timed-out one is dropped from here at once). */
  private readonly waiting = new Map<number, Waiting>();
  /** Requests the thread has not answered yet, timed out or not: while > 0 it may be inside onnxruntime. */
  private unanswered = 0;
  private retired = false;
  private stopped: Promise<void> | undefined;
  private onStopped: (() => void) | undefined;
  readonly bornAt = Date.now();

  private constructor(
    private readonly worker: Worker,
    readonly ready: Ready,
    private readonly onDeath: (w: SessionWorker, error: Error) => void,
  ) {
    worker.on('message', (m: WorkerReply) => this.onMessage(m));
    worker.on('error', (e) => this.exited(e));
    worker.on('exit', (code) => this.exited(new Error(`inference worker exited with code ${code}`)));
  }

  static async spawn(
    file: string,
    settings: OnnxSettings,
    options: PoolOptions,
    setup: Setup | undefined,
    onDeath: (w: SessionWorker, error: Error) => void,
  ): Promise<SessionWorker> {
    const started = await SessionWorker.start(file, settings, options, onDeath);
    if (setup) {
      try {
        await started.configure(setup);
      } catch (e) {
        await started.retire();
        throw e;
      }
    }
    return started;
  }

  private static start(file: string, settings: OnnxSettings, options: PoolOptions, onDeath: (w: SessionWorker, error: Error) => void): Promise<SessionWorker> {
    const worker = new Worker(workerScript('onnx/session-worker.js'));
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        // Only init was sent, and it has failed or the thread is gone: nothing of onnxruntime runs.
        void worker.terminate();
        reject(e);
      };
      worker.once('error', fail);
      worker.once('exit', (code) => fail(new Error(`inference worker exited with code ${code} while loading`)));
      worker.once('message', (m: WorkerReply) => {
        worker.removeAllListeners('error').removeAllListeners('exit');
        if (m.type === 'ready') resolve(new SessionWorker(worker, m, onDeath));
        else fail(new Error(m.type === 'error' ? m.message : `unexpected reply ${m.type}`));
      });
      const init: WorkerRequest = { type: 'init', file, settings, nice: options.nice };
      worker.postMessage(init);
    });
  }

  get busy(): boolean {
    return this.unanswered > 0;
  }

  /** One call; fails with CallTimeoutError (and `onTimeout` is told) when it overruns `timeoutMs`. */
  async run(input: CallInput, timeoutMs: number, onTimeout: () => void): Promise<CallOutput> {
    // Handed over, not copied: the caller does not use the arrays again.
    const transfer = [input.ids.buffer as ArrayBuffer, input.lengths.buffer as ArrayBuffer];
    const m = await this.request((id) => ({ type: 'run', id, ids: input.ids, lengths: input.lengths }), transfer, { timeoutMs, onTimeout });
    if (m.type !== 'result') throw new Error(`unexpected reply ${m.type}`);
    return { values: m.values, width: m.width, norms: m.norms, computeMs: m.computeMs };
  }

  async probe(input: CallInput, output: string, padId: number, timeoutMs: number, onTimeout: () => void): Promise<ProbeResult> {
    const m = await this.request((id) => ({ type: 'probe', id, ids: input.ids, lengths: input.lengths, output, padId }), [], { timeoutMs, onTimeout });
    if (m.type !== 'probed') throw new Error(`unexpected reply ${m.type}`);
    return { dims: m.dims, computeMs: m.computeMs };
  }

  async configure(setup: Setup): Promise<string> {
    const m = await this.request((id) => ({ type: 'configure', id, post: setup.post, padId: setup.padId }));
    if (m.type !== 'configured') throw new Error(`unexpected reply ${m.type}`);
    return m.output;
  }

  async ping(): Promise<number> {
    const started = performance.now();
    await this.request((id) => ({ type: 'ping', id }));
    return performance.now() - started;
  }

  /**
   * Takes no more work and stops the thread as soon as it has answered everything it was sent
   * (at once when idle). Requests still waiting are answered normally.
   */
  retire(): Promise<void> {
    this.retired = true;
    this.stopped ??= new Promise<void>((resolve) => {
      this.onStopped = resolve;
    });
    this.stopIfIdle();
    return this.stopped;
  }

  private stopIfIdle(): void {
    if (!this.retired || this.unanswered > 0 || !this.onStopped) return;
    const done = this.onStopped;
    this.onStopped = undefined;
    this.worker.removeAllListeners('exit');
    void this.worker.terminate().then(() => done(), () => done());
  }

  private request(message: (id: number) => WorkerRequest, transfer: ArrayBuffer[] = [], deadline?: { timeoutMs: number; onTimeout: () => void }): Promise<WorkerReply> {
    if (this.retired) return Promise.reject(new Error('inference worker is retired'));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer =
        deadline &&
        setTimeout(() => {
          this.waiting.delete(id);
          reject(new CallTimeoutError(deadline.timeoutMs));
          deadline.onTimeout();
        }, deadline.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.unanswered++;
      this.worker.postMessage(message(id), transfer);
    });
  }

  private onMessage(m: WorkerReply): void {
    if (m.type === 'ready') return;
    this.unanswered = Math.max(0, this.unanswered - 1);
    const waiting = m.id === null ? undefined : this.waiting.get(m.id);
    if (waiting) {
      this.waiting.delete(m.id!);
      clearTimeout(waiting.timer);
      if (m.type === 'error') waiting.reject(new Error(m.message));
      else waiting.resolve(m);
    }
    this.stopIfIdle();
  }

  /** The thread is gone (it threw, ran out of memory, or exited): everything it held fails. */
  private exited(error: Error): void {
    if (this.unanswered < 0) return;
    this.unanswered = -1;
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.waiting.clear();
    this.onStopped?.();
    if (!this.retired) this.onDeath(this, error);
  }
}

export class WorkerPool implements ModelRunner {
  private readonly workers: SessionWorker[] = [];
  /** Workers retired while inside a call (an overrun): stopped when their call returns. */
  private readonly retiring = new Set<SessionWorker>();
  private closed = false;
  /** Consecutive replacements without a healthy worker in between (drives the backoff). */
  private failures = 0;
  private readonly pendingRestarts = new Set<NodeJS.Timeout>();
  private setup: Setup | undefined;
  private chosenOutput: string | undefined;
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

  /** Starts `size` workers; fails (stopping any started) if one cannot load the model. */
  static async open(file: string, settings: OnnxSettings, size: number, options: PoolOptions): Promise<WorkerPool> {
    let pool: WorkerPool | undefined;
    const onDeath = (w: SessionWorker, e: Error) => pool?.replace(w, e, 'died');
    const spawned = await Promise.allSettled(Array.from({ length: size }, () => SessionWorker.spawn(file, settings, options, undefined, onDeath)));
    const started = spawned.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = spawned.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed || started.length === 0) {
      await Promise.all(started.map((w) => w.retire()));
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

  /** The graph output the workers read, once configured. */
  get output(): string | undefined {
    return this.chosenOutput;
  }

  get executionProvider(): string {
    return this.first.provider;
  }

  get capacity(): number {
    return this.workers.length;
  }

  /** Threads retired inside a call that has not returned (each holds a core until it does). */
  get stuck(): number {
    return this.retiring.size;
  }

  get shape(): { workers: number; threads: number } {
    return { workers: this.size, threads: this.settings.ORT_INTRA_OP_THREADS };
  }

  async configure(post: PostProcess, padId: number): Promise<void> {
    this.setup = { post, padId };
    const outputs = await Promise.all(this.workers.map((w) => w.configure({ post, padId })));
    this.chosenOutput = outputs[0];
  }

  run(input: CallInput): Promise<CallOutput> {
    return this.onFreeWorker((worker, onTimeout) => worker.run(input, this.options.timeoutMs, onTimeout)).then((out) => {
      this.failures = 0;
      return out;
    });
  }

  probe(input: CallInput, output: string, padId: number): Promise<ProbeResult> {
    return this.onFreeWorker((worker, onTimeout) => worker.probe(input, output, padId, this.options.timeoutMs, onTimeout));
  }

  async ping(): Promise<number> {
    const worker = this.workers.find((w) => !w.busy);
    return worker ? worker.ping() : 0;
  }

  /**
   * Stops every worker once its call in progress (if any) has returned; such calls are answered
   * normally. Resolves when every thread has stopped.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.pendingRestarts) clearTimeout(t);
    await Promise.all([...this.workers.splice(0), ...this.retiring].map((w) => w.retire()));
  }

  private onFreeWorker<T>(use: (worker: SessionWorker, onTimeout: () => void) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('runner is closed'));
    const worker = this.workers.find((w) => !w.busy);
    if (!worker) return Promise.reject(new Error('no free inference worker (the scheduler runs at most `capacity` calls at once)'));
    return use(worker, () => this.replace(worker, new CallTimeoutError(this.options.timeoutMs), 'timeout'));
  }

  /** Takes `worker` out of the pool at once and starts a replacement after the backoff. */
  private replace(worker: SessionWorker, error: Error, reason: 'died' | 'timeout'): void {
    const at = this.workers.indexOf(worker);
    if (at < 0 || this.closed) return;
    this.workers.splice(at, 1);
    if (reason === 'timeout') {
      // Stopped when its call returns (never inside it, see above).
      this.retiring.add(worker);
      void worker.retire().then(() => this.retiring.delete(worker));
    }
    if (Date.now() - worker.bornAt >= HEALTHY_AFTER_MS) this.failures = 0;
    const delayMs = this.failures === 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.failures - 1));
    this.failures++;
    this.restarts[reason]++;
    this.options.onRestart?.(reason, delayMs);
    this.options.warn(reason === 'timeout' ? 'inference worker overran its call; replacing it' : 'inference worker died; replacing it', {
      error: error.message,
      delayMs,
      workers: this.workers.length,
      stuck: this.retiring.size,
    });
    this.respawn(delayMs);
  }

  private respawn(delayMs: number): void {
    const timer = setTimeout(() => {
      this.pendingRestarts.delete(timer);
      SessionWorker.spawn(this.file, this.settings, this.options, this.setup, (w, e) => this.replace(w, e, 'died')).then(
        async (worker) => {
          if (this.closed) return worker.retire();
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
