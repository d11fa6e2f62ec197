// InferenceBackend over an in-process onnxruntime-node session.
import * as ort from 'onnxruntime-node';
import type { InferenceBackend, RunResult } from '../backend.js';
import type { PaddedBatch } from '../tensors.js';
import { chooseProviders, sessionOptions, type OnnxSettings } from './session-options.js';
import { runSession } from './session-run.js';

/** Transformer inputs the gateway knows how to fill, by their Hugging Face export names. */
export const FEEDABLE_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

export class OnnxBackend implements InferenceBackend {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly executionProvider: string,
  ) {}

  static async open(
    file: string,
    settings: OnnxSettings,
    warn: (msg: string, fields: Record<string, unknown>) => void,
  ): Promise<OnnxBackend> {
    const { providers, unavailable } = chooseProviders(settings.ORT_EXECUTION_PROVIDERS);
    if (unavailable.length > 0) {
      warn('execution provider unavailable, falling back', { requested: unavailable, using: providers });
    }
    const session = await ort.InferenceSession.create(file, sessionOptions(settings, providers));
    return new OnnxBackend(session, providers[0]!);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(batch: PaddedBatch, outputs: readonly string[]): Promise<RunResult> {
    const started = performance.now();
    const result = await runSession(this.session, batch, outputs);
    return { outputs: result, computeMs: performance.now() - started };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
