// How the inference path turns texts into token ids: on the event loop (LocalEncoding), or on
// tokenizer threads (TokenizerPool) so that the event loop only parses requests and routes results.
import type { Model } from '../model.js';
import type { EncodedText } from '../text-encoder.js';

export interface Encoding {
  encoded: EncodedText;
  /** Time spent tokenizing, where it ran. */
  ms: number;
}

/** A text to tokenize and who asked (tokenizing is shared fairly between clients too). */
export interface EncodeJob {
  text: string;
  client: string;
}

export interface TextEncoding {
  /** Settles when the job's text is tokenized. */
  encode(model: Model, job: EncodeJob): Promise<Encoding>;
  close(): Promise<void>;
}

/** Tokenizes `text` with `model`'s tokenizer on the calling thread, timed. */
export function encodeHere(model: Model, text: string): Encoding {
  const started = performance.now();
  const encoded = model.encoder.encode(text);
  return { encoded, ms: performance.now() - started };
}

/** encodeHere, its outcome handed to `resolve`, or what it threw to `reject`. */
export function settleHere(model: Model, text: string, resolve: (e: Encoding) => void, reject: (e: Error) => void): void {
  let encoding: Encoding;
  try {
    encoding = encodeHere(model, text);
  } catch (e) {
    return reject(e as Error);
  }
  resolve(encoding);
}

export class LocalEncoding implements TextEncoding {
  encode(model: Model, job: EncodeJob): Promise<Encoding> {
    return new Promise((resolve, reject) => settleHere(model, job.text, resolve, reject));
  }

  async close(): Promise<void> {}
}
