// How a model's runner is set up: how many worker threads, with how many onnxruntime threads each.
// Threads inside one call pay only when a call is long enough to amortise their synchronisation; for
// a small model they cost more than they save, and separate single-threaded workers running calls
// side by side do more work. So, unless configured, the choice is made once per model at load from
// one timed call (the median of a few) on a single-threaded worker: a typical call of at least
// WIDE_CALL_MS gets one worker with every core (a lone request then also answers as fast as the
// machine can), a shorter one gets one single-threaded worker per core. A decision made once, from
// a clear threshold, not tuned online.
import type { Config } from '../../config/config.js';
import { medianComputeMs, typicalSequence, type ModelRunner } from '../runner.js';
import { LocalRunner } from './local-runner.js';
import type { OnnxSettings } from './session-options.js';
import { WorkerPool } from './worker-pool.js';

/** A typical call (one text at the model's usual length, up to 128 tokens) this slow or slower gets every core. */
export const WIDE_CALL_MS = 8;

export type RunnerConfig = OnnxSettings & Pick<Config, 'INFERENCE_WORKERS' | 'INFERENCE_WORKER_NICE' | 'MODEL_TIMEOUT_MS' | 'CPU_CORES'>;

/** What the loader asks for: the graph of one model, not yet configured (see runner.ts). */
export interface RunnerRequest {
  /** The model's name (its folder). */
  model: string;
  /** The weights file, absolute. */
  file: string;
  /** Longest input in tokens (to time a typical call). */
  maxTokens: number;
  /** The tokenizer's pad id (probe calls are made of it). */
  padId: number;
}

export interface RunnerHooks {
  warn: (msg: string, fields: Record<string, unknown>) => void;
  onRestart?: (reason: 'died' | 'timeout', delayMs: number) => void;
}

export async function openRunner(request: RunnerRequest, config: RunnerConfig, hooks: RunnerHooks): Promise<ModelRunner> {
  const cores = config.CPU_CORES;
  const pool = (workers: number, threads: number) =>
    WorkerPool.open(request.file, { ...config, ORT_INTRA_OP_THREADS: threads }, workers, {
      nice: config.INFERENCE_WORKER_NICE,
      timeoutMs: config.MODEL_TIMEOUT_MS,
      warn: hooks.warn,
      onRestart: hooks.onRestart,
    });
  const workers = config.INFERENCE_WORKERS;
  if (workers === 0) return LocalRunner.open(request.file, config, hooks.warn);
  if (workers !== 'auto') return pool(workers, config.ORT_INTRA_OP_THREADS || Math.max(1, Math.floor(cores / workers)));
  // A GPU call is not made faster by CPU threads, and one session is all the device needs.
  if (config.ORT_EXECUTION_PROVIDERS[0] !== 'cpu' || cores === 1) return pool(1, config.ORT_INTRA_OP_THREADS || cores);
  const probe = await pool(1, 1);
  let ms: number;
  try {
    ms = await typicalCallMs(probe, request);
  } finally {
    await probe.close();
  }
  return ms >= WIDE_CALL_MS ? pool(1, config.ORT_INTRA_OP_THREADS || cores) : pool(cores, 1);
}

/** Median time of a one-text call at min(maxTokens, 128) tokens, after one untimed run. */
function typicalCallMs(runner: ModelRunner, request: RunnerRequest): Promise<number> {
  const sequence = typicalSequence(request.maxTokens);
  const output = runner.outputNames[0]!;
  return medianComputeMs(() => runner.probe({ ids: new Int32Array(sequence).fill(request.padId), lengths: Int32Array.of(sequence) }, output, request.padId));
}
