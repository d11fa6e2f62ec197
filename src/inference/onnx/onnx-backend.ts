// InferenceBackend over an in-process onnxruntime-node session.
import * as ort from 'onnxruntime-node';
import type { InferenceBackend, OutputTensor } from '../backend.js';
import type { PaddedBatch } from '../tensors.js';
import { chooseProviders, sessionOptions, type OnnxSettings } from './session-options.js';

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

  async run(batch: PaddedBatch, outputs: readonly string[]): Promise<Record<string, OutputTensor>> {
    const dims = [batch.batch, batch.sequence];
    const all: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', batch.inputIds, dims),
      attention_mask: new ort.Tensor('int64', batch.attentionMask, dims),
      token_type_ids: new ort.Tensor('int64', batch.tokenTypeIds, dims),
    };
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.session.inputNames) feeds[name] = all[name]!;
    const result = await this.session.run(feeds, [...outputs]);
    const out: Record<string, OutputTensor> = {};
    for (const name of outputs) {
      const t = result[name]!;
      if (t.type !== 'float32') throw new Error(`output ${name} is ${t.type}, expected float32`);
      out[name] = { data: t.data as Float32Array, dims: t.dims };
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
