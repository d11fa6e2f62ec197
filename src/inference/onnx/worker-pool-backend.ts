// InferenceBackend over a small pool of worker threads, each holding its own onnxruntime session of
// the same model. Runs go to an idle worker, or wait in arrival order for one; a worker that dies
// fails only its own run and is replaced.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InferenceBackend, OutputTensor } from '../backend.js';
import type { PaddedBatch } from '../tensors.js';
import type { OnnxSettings } from './session-options.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

/** The compiled worker script; tests running TypeScript sources use the build in dist/. */
function workerScript(): URL {
  const here = new URL('./session-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  return new URL(`file://${path.join(repo, 'dist/inference/onnx/session-worker.js')}`);
}

interface Job {
  batch: PaddedBatch;
  outputs: readonly string[];
  resolve: (out: Record<string, OutputTensor>) => void;
  reject: (e: Error) => void;
}

type Warn = (msg: string, fields: Record<string, unknown>) => void;

class SessionWorker {
  private job: Job | undefined;
  private nextId = 0;
  private closing = false;

  private constructor(
    private readonly worker: Worker,
    readonly ready: Extract<WorkerReply, { type: 'ready' }>,
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
    onIdle: (w: SessionWorker) => void,
    onDeath: (w: SessionWorker, error: Error) => void,
  ): Promise<SessionWorker> {
    const worker = new Worker(workerScript());
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        void worker.terminate();
        reject(e);
      };
      worker.once('error', fail);
      worker.once('message', (m: WorkerReply) => {
        worker.off('error', fail);
        if (m.type === 'ready') resolve(new SessionWorker(worker, m, onIdle, onDeath));
        else fail(new Error(m.type === 'error' ? m.message : `unexpected reply ${m.type}`));
      });
      worker.postMessage({ type: 'init', file, settings, nice } satisfies WorkerRequest);
    });
  }

  get idle(): boolean {
    return this.job === undefined && !this.closing;
  }

  start(job: Job): void {
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
    if (m.type === 'result') job?.resolve(m.outputs);
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

  private constructor(
    private readonly file: string,
    private readonly settings: OnnxSettings,
    private readonly nice: number,
    private readonly workers: SessionWorker[],
    private readonly warn: Warn,
  ) {}

  /** `nice`: how much lower than the event loop the inference threads run (0: same priority). */
  static async open(file: string, settings: OnnxSettings, size: number, warn: Warn, nice = 0): Promise<WorkerPoolBackend> {
    const pool = new WorkerPoolBackend(file, settings, nice, [], warn);
    const spawned = await Promise.allSettled(Array.from({ length: size }, () => pool.spawnWorker()));
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

  run(batch: PaddedBatch, outputs: readonly string[]): Promise<Record<string, OutputTensor>> {
    if (this.closed) return Promise.reject(new Error('backend is closed'));
    return new Promise((resolve, reject) => {
      const job: Job = { batch, outputs, resolve, reject };
      const worker = this.workers.find((w) => w.idle);
      if (worker && this.waiting.length === 0) worker.start(job);
      else this.waiting.push(job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Error('backend is closed'));
    await Promise.all(this.workers.splice(0).map((w) => w.close()));
  }

  private async spawnWorker(): Promise<void> {
    const worker = await SessionWorker.spawn(
      this.file,
      this.settings,
      this.nice,
      (w) => this.workerIdle(w),
      (w, e) => this.workerDied(w, e),
    );
    if (this.closed) return void (await worker.close());
    this.workers.push(worker);
    this.workerIdle(worker);
  }

  private workerIdle(worker: SessionWorker): void {
    const next = this.waiting.shift();
    if (next) return worker.start(next);
    for (const listener of this.idleListeners) listener();
  }

  private workerDied(worker: SessionWorker, error: Error): void {
    this.workers.splice(this.workers.indexOf(worker), 1);
    this.warn('inference worker died; replacing it', { error: error.message, file: path.basename(this.file) });
    if (!this.closed) this.spawnWorker().catch((e) => this.warn('inference worker could not be replaced', { error: String(e) }));
  }
}
