// Messages between the main thread and a tokenizer thread. Results travel as typed arrays in a
// transfer list: one batch of texts comes back without copying.
import type { EncoderSource } from '../text-encoder.js';

export type EncoderRequest =
  | { type: 'add'; model: string; source: EncoderSource }
  | { type: 'encode'; id: number; model: string; texts: string[]; countAll: boolean };

export interface EncodedBatch {
  type: 'encoded';
  id: number;
  /** Every text's ids, one after another. */
  ids: Int32Array;
  /** Ids per text. */
  lengths: Int32Array;
  fullLengths: Int32Array;
  /** 1 where the text was cut. */
  truncated: Uint8Array;
  unknown: Int32Array;
  /** Milliseconds spent tokenizing each text. */
  ms: Float64Array;
}

export type EncoderReply = EncodedBatch | { type: 'error'; id: number; message: string };
