// Messages between the main thread and a session worker. Token ids go in and result rows come back
// as typed arrays in transfer lists: a call crosses the thread boundary without being copied.
import type { PostProcess } from '../runner.js';
import type { OnnxSettings } from './session-options.js';

export interface InitRequest {
  type: 'init';
  file: string;
  settings: OnnxSettings;
  /** Nice steps to lower this thread (and the onnxruntime threads it starts) by. */
  nice: number;
}

export interface RunRequest {
  type: 'run';
  id: number;
  ids: Int32Array;
  lengths: Int32Array;
}

export type WorkerRequest =
  | InitRequest
  | RunRequest
  | { type: 'configure'; id: number; post: PostProcess; padId: number }
  | { type: 'probe'; id: number; ids: Int32Array; lengths: Int32Array; output: string; padId: number }
  | { type: 'ping'; id: number };

export type WorkerReply =
  | { type: 'ready'; inputNames: string[]; outputNames: string[]; provider: string; unavailable: string[] }
  | { type: 'configured'; id: number; output: string }
  | { type: 'probed'; id: number; dims: number[]; computeMs: number }
  | { type: 'result'; id: number; values: Float32Array; width: number; norms?: Float32Array; computeMs: number }
  | { type: 'error'; id: number | null; message: string }
  | { type: 'pong'; id: number };
