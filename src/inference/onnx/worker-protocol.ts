// Messages between the main thread and a session worker. Tensor buffers travel in transfer lists,
// so a batch crosses the thread boundary without being copied.
import type { OnnxSettings } from './session-options.js';

export interface InitRequest {
  type: 'init';
  file: string;
  settings: OnnxSettings;
  /** Nice steps to lower this thread (and the onnxruntime threads it starts) by. */
  nice: number;
  /** Intra-op threads of a second session for runs marked `solo`; 0: no second session. */
  soloThreads: number;
}

export interface RunRequest {
  type: 'run';
  id: number;
  batch: number;
  sequence: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  outputs: string[];
  /** Run on the solo session (every other worker is idle). */
  solo: boolean;
}

export type WorkerRequest = InitRequest | RunRequest | { type: 'close' };

export type WorkerReply =
  | { type: 'ready'; inputNames: string[]; outputNames: string[]; provider: string; unavailable: string[] }
  | { type: 'result'; id: number; outputs: Record<string, { data: Float32Array; dims: number[] }>; computeMs: number }
  | { type: 'error'; id: number | null; message: string }
  | { type: 'closed' };
