// Messages between the main thread and a tokenizer thread. Results travel as typed arrays in a
// transfer list: a message's texts come back without copying.
import type { EncoderSource } from '../text-encoder.js';

export type EncoderRequest =
  | { type: 'add'; model: string; source: EncoderSource }
  /** `models[i]` names the tokenizer of `texts[i]` (one message may serve several models). */
  | { type: 'encode'; id: number; models: string[]; texts: string[] };

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
  /** Per text: an error message when that text could not be tokenized (e.g. unknown model), else ''. */
  errors: string[];
}

export type EncoderReply = EncodedBatch | { type: 'error'; id: number; message: string };
