// How the inference path turns a text into token ids: on the event loop (LocalEncoding), or on
// tokenizer threads (TokenizerPool) so that the event loop only parses requests and routes results.
import type { Model } from '../model.js';
import type { EncodedText } from '../text-encoder.js';

export interface Encoding {
  encoded: EncodedText;
  /** Time spent tokenizing, where it ran. */
  ms: number;
}

export interface TextEncoding {
  /** `countAll`: tokenize the whole text to report its full length (needed to refuse long texts). */
  encode(model: Model, text: string, countAll: boolean): Promise<Encoding> | Encoding;
  close(): Promise<void>;
}

export class LocalEncoding implements TextEncoding {
  encode(model: Model, text: string, countAll: boolean): Encoding {
    const started = performance.now();
    const encoded = model.encoder.encode(text, countAll);
    return { encoded, ms: performance.now() - started };
  }

  async close(): Promise<void> {}
}
