// InferenceBackend over a small pool of worker threads, each holding its own onnxruntime session of
// the same model. Runs go to an idle worker, or wait in arrival order for one; a worker that dies
// fails only its own run and is replaced.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { InferenceBackend, RunResult } from '../backend.js';
import type { PaddedBatch } from '../tensors.js';
import { workerScript } from '../worker-script.js';
import { SoloChoice } from './solo-choice.js';
import type { OnnxSettings } from './session-options.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

interface Job {
  batch: PaddedBatch;
  outputs: readonly string[];
  resolve: (out: RunResult) => void;
  reject: (e: Error) => void;
  /** False: never on the solo session. */
  soloAllowed: boolean;
}

type Warn = (msg: string, fields: Record<string, unknown>) => void;

/** Start-up timing runs of a typical call, each way. */
const TUNE_ROUNDS = 8;

const round = (ms: number) => Math.round(ms * 1000) / 1000;

export interface PoolOptions {
  /** How much lower than the event loop the inference threads run (nice steps; 0: same priority). */
  nice?: number;
  /**
   * Intra-op threads for a run that starts while every worker is idle: the first worker keeps a second
   * session with this many threads, so that under light load one request uses every core. 0: off.
   */
  soloThreads?: number;
}

class SessionWorker {
  private job: Job | undefined;
  private nextId = 0;
  private closing = false;

  private constructor(
    private readonly worker: Worker,
    readonly ready: Extract<WorkerReply, { type: 'ready' }>,
    private readonly soloThreads: number,
    private readonly onIdle: (w: SessionWorker) => void,
    private readonly onDeath: (w: SessionWorker, error: Error) => void,
  ) {
    worker.on('message', (m: WorkerReply) => this.onMessage(m));
    worker.on('error', (e) => this.die(e));
    worker.on('exit', (code) => this.die(new Error(`inference worker exited with code ${code}`)));
  }

  static spawn(
    file: string,
    settings: OnnxSettings,
    nice: number,
    soloThreads: number,
    onIdle: (w: SessionWorker) => void,
    onDeath: (w: SessionWorker, error: Error) => void,
  ): Promise<SessionWorker> {
    const worker = new Worker(workerScript('onnx/session-worker.js'));
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        void worker.terminate();
        reject(e);
      };
      worker.once('error', fail);
      worker.once('message', (m: WorkerReply) => {
        worker.off('error', fail);
        if (m.type === 'ready') resolve(new SessionWorker(worker, m, soloThreads, onIdle, onDeath));
        else fail(new Error(m.type === 'error' ? m.message : `unexpected reply ${m.type}`));
      });
      worker.postMessage({ type: 'init', file, settings, nice, soloThreads } satisfies WorkerRequest);
    });
  }

  get idle(): boolean {
    return this.job === undefined && !this.closing;
  }

  /** Whether this worker holds a session for solo runs. */
  get canSolo(): boolean {
    return this.soloThreads > 0;
  }

  start(job: Job, solo = false): void {
    this.job = job;
    const { batch } = job;
    const msg: WorkerRequest = {
      type: 'run',
      id: ++this.nextId,
      batch: batch.batch,
      sequence: batch.sequence,
      inputIds: batch.inputIds,
      attentionMask: batch.attentionMask,
      tokenTypeIds: batch.tokenTypeIds,
      outputs: [...job.outputs],
      solo,
    };
    // The inputs are handed over, not copied: the padded batch is not used on this thread again.
    this.worker.postMessage(msg, [batch.inputIds.buffer, batch.attentionMask.buffer, batch.tokenTypeIds.buffer] as ArrayBuffer[]);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private onMessage(m: WorkerReply): void {
    const job = this.job;
    if (m.type !== 'result' && m.type !== 'error') return;
    this.job = undefined;
    if (m.type === 'result') job?.resolve({ outputs: m.outputs, computeMs: m.computeMs });
    else job?.reject(new Error(m.message));
    this.onIdle(this);
  }

  private die(error: Error): void {
    if (this.closing) return;
    this.closing = true;
    this.job?.reject(error);
    this.job = undefined;
    this.onDeath(this, error);
  }
}

export class WorkerPoolBackend implements InferenceBackend {
  private readonly waiting: Job[] = [];
  private readonly idleListeners = new Set<() => void>();
  private closed = false;
  /** Runs that went to the solo session. */
  soloRuns = 0;
  private drainScheduled = false;
  /** Which way lone calls run, learnt from their timings. */
  private readonly soloChoice = new SoloChoice();

  private constructor(
    private readonly file: string,
    private readonly settings: OnnxSettings,
    private readonly options: PoolOptions,
    private readonly workers: SessionWorker[],
    private readonly warn: Warn,
  ) {}

  static async open(file: string, settings: OnnxSettings, size: number, warn: Warn, options: PoolOptions = {}): Promise<WorkerPoolBackend> {
    const pool = new WorkerPoolBackend(file, settings, options, [], warn);
    // One worker (the first) holds the solo session; a replacement for it gets one again.
    const spawned = await Promise.allSettled(Array.from({ length: size }, (_, i) => pool.spawnWorker(i === 0)));
    const failed = spawned.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await pool.close();
      throw failed.reason;
    }
    const { unavailable, provider } = pool.workers[0]!.ready;
    if (unavailable.length > 0) warn('execution provider unavailable, falling back', { requested: unavailable, using: [provider] });
    return pool;
  }

  get inputNames(): readonly string[] {
    return this.workers[0]!.ready.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.workers[0]!.ready.outputNames;
  }

  get executionProvider(): string {
    return this.workers[0]!.ready.provider;
  }

  /** Workers free to start a run now. */
  get idleWorkers(): number {
    return this.waiting.length > 0 ? 0 : this.workers.filter((w) => w.idle).length;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Calls `listener` whenever a worker becomes free; returns the unsubscribe function. */
  onIdle(listener: () => void): () => void {
    this.idleListeners.add(listener);
    return () => this.idleListeners.delete(listener);
  }

  run(batch: PaddedBatch, outputs: readonly string[], options: { solo?: boolean } = {}): Promise<RunResult> {
    if (this.closed) return Promise.reject(new Error('backend is closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, outputs, resolve, reject, soloAllowed: options.solo !== false });
      // Started a microtask later, once the caller has queued every call it makes now (the sub-batches
      // of one batch), so that a solo run is chosen only for a call that is really alone.
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        queueMicrotask(() => {
          this.drainScheduled = false;
          this.drain();
        });
      }
    });
  }

  /** Starts waiting calls on idle workers; tells listeners when workers are left idle. */
  private drain(): void {
    const idle = this.workers.filter((w) => w.idle);
    // Alone (one call, every worker idle): it may use every core through the solo session.
    const alone = this.waiting.length === 1 && this.waiting[0]!.soloAllowed && idle.length === this.workers.length;
    const soloWorker = alone ? idle.find((w) => w.canSolo) : undefined;
    if (soloWorker) this.startAlone(soloWorker, this.waiting.shift()!);
    else
      for (const worker of idle) {
        const job = this.waiting.shift();
        if (!job) break;
        worker.start(job);
      }
    if (this.waiting.length === 0 && this.workers.some((w) => w.idle)) for (const listener of this.idleListeners) listener();
  }

  /** A lone call: solo or on the worker's own session as the solo choice says, its timing fed back. */
  private startAlone(worker: SessionWorker, job: Job): void {
    const tokens = job.batch.batch * job.batch.sequence;
    const solo = this.soloChoice.choose(tokens);
    const resolve = job.resolve;
    job.resolve = (result) => {
      this.soloChoice.observe(tokens, solo, result.computeMs);
      resolve({ ...result, solo });
    };
    if (solo) this.soloRuns++;
    worker.start(job, solo);
  }

  /** Whether a lone call of `tokens` padded tokens would now run solo (exploration aside). */
  usesSolo(tokens: number): boolean {
    return this.workers.some((w) => w.canSolo) && this.soloChoice.prefers(tokens);
  }

  /** Seeds the solo choice (see solo-choice.ts) with timings of a typical call, each way. */
  async tune(probe: () => PaddedBatch, outputs: readonly string[]): Promise<Record<string, unknown> | undefined> {
    const worker = this.workers.find((w) => w.canSolo);
    if (!worker || !worker.idle || this.waiting.length > 0) return undefined;
    const run = async (solo: boolean) =>
      (await new Promise<RunResult>((resolve, reject) => worker.start({ batch: probe(), outputs, resolve, reject, soloAllowed: solo }, solo))).computeMs;
    // Alternating, so that a change in machine load during the probe hits both alike; best of each.
    let narrow = Number.POSITIVE_INFINITY;
    let solo = Number.POSITIVE_INFINITY;
    for (let i = 0; i < TUNE_ROUNDS; i++) {
      narrow = Math.min(narrow, await run(false));
      solo = Math.min(solo, await run(true));
    }
    const tokens = probe();
    const size = tokens.batch * tokens.sequence;
    this.soloChoice.seed(size, narrow, solo);
    return { soloSession: this.soloChoice.prefers(size), narrowMs: round(narrow), soloMs: round(solo) };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Error('backend is closed'));
    await Promise.all(this.workers.splice(0).map((w) => w.close()));
  }

  private async spawnWorker(solo: boolean): Promise<void> {
    const worker = await SessionWorker.spawn(
      this.file,
      this.settings,
      this.options.nice ?? 0,
      solo ? (this.options.soloThreads ?? 0) : 0,
      () => this.drain(),
      (w, e) => this.workerDied(w, e),
    );
    if (this.closed) return void (await worker.close());
    this.workers.push(worker);
    this.drain();
  }

  private workerDied(worker: SessionWorker, error: Error): void {
    this.workers.splice(this.workers.indexOf(worker), 1);
    this.warn('inference worker died; replacing it', { error: error.message, file: path.basename(this.file) });
    if (!this.closed) this.spawnWorker(worker.canSolo).catch((e) => this.warn('inference worker could not be replaced', { error: String(e) }));
  }
}
