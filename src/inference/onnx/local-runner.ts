// A ModelRunner on the main thread (INFERENCE_WORKERS=0): one onnxruntime session, one call at a
// time. For debugging and single-core machines; onnxruntime-node runs a graph synchronously on the
// calling thread, so a call here blocks the event loop and cannot be timed out.
import type * as ort from 'onnxruntime-node';
import { resolvePost, type CallInput, type CallOutput, type ModelRunner, type PostProcess, type ProbeResult } from '../runner.js';
import { probeCall, runCall } from './run-call.js';
import { openSession, type OnnxSettings } from './session-options.js';

export class LocalRunner implements ModelRunner {
  onCapacity: (() => void) | undefined;
  private closed = false;
  private post: Required<PostProcess> | undefined;
  private padId = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly executionProvider: string,
    private readonly threads: number,
  ) {}

  static async open(file: string, settings: OnnxSettings, warn: (msg: string, fields: Record<string, unknown>) => void): Promise<LocalRunner> {
    const { session, providers, unavailable } = await openSession(file, settings);
    if (unavailable.length > 0) warn('execution provider unavailable, falling back', { requested: unavailable, using: providers });
    return new LocalRunner(session, providers[0]!, settings.ORT_INTRA_OP_THREADS);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  get output(): string | undefined {
    return this.post?.output;
  }

  get capacity(): number {
    return this.closed ? 0 : 1;
  }

  get shape(): { workers: number; threads: number } {
    return { workers: 0, threads: this.threads };
  }

  async configure(post: PostProcess, padId: number): Promise<void> {
    this.post = resolvePost(post, this.session.outputNames);
    this.padId = padId;
  }

  run(input: CallInput): Promise<CallOutput> {
    if (this.closed) return Promise.reject(new Error('runner is closed'));
    if (!this.post) return Promise.reject(new Error('runner not configured'));
    return runCall(this.session, this.post, this.padId, input);
  }

  probe(input: CallInput, output: string, padId: number): Promise<ProbeResult> {
    if (this.closed) return Promise.reject(new Error('runner is closed'));
    return probeCall(this.session, output, padId, input);
  }

  async ping(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.session.release();
  }
}
