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
  /** One promise per job, settled when that text is tokenized. */
  encode(model: Model, jobs: readonly EncodeJob[]): Promise<Encoding>[];
  close(): Promise<void>;
}

/** Tokenizes `text` with `model`'s tokenizer on the calling thread, timed. */
export function encodeHere(model: Model, text: string): Encoding {
  const started = performance.now();
  const encoded = model.encoder.encode(text);
  return { encoded, ms: performance.now() - started };
}

export class LocalEncoding implements TextEncoding {
  encode(model: Model, jobs: readonly EncodeJob[]): Promise<Encoding>[] {
    return jobs.map((job) => {
      try {
        return Promise.resolve(encodeHere(model, job.text));
      } catch (e) {
        return Promise.reject(e);
      }
    });
  }

  async close(): Promise<void> {}
}
