// Tokenizer threads. Texts asked for in the same turn of the event loop go to a thread as one
// message (DataLoader per model and mode, its cache off), to the thread with the least work pending;
// each thread builds a model's encoder from the model's tokenizer files the first time it is asked.
// A thread that dies is replaced; texts it held, and any text no thread can take, are tokenized on
// the event loop instead (slower under load, never an error), with a warning.
import { Worker } from 'node:worker_threads';
import DataLoader from 'dataloader';
import type { Model } from '../model.js';
import type { EncoderSource } from '../text-encoder.js';
import { workerScript } from '../worker-script.js';
import type { EncodedBatch, EncoderReply, EncoderRequest } from './protocol.js';
import { LocalEncoding, type Encoding, type TextEncoding } from './text-encoding.js';

/** Most texts per message to a thread. */
const MAX_TEXTS_PER_MESSAGE = 64;

interface Pending {
  texts: number;
  resolve: (batch: EncodedBatch) => void;
  reject: (e: Error) => void;
}

class TokenizerThread {
  readonly pending = new Map<number, Pending>();
  /** Texts sent and not answered yet: how busy the thread is. */
  load = 0;
  private readonly models = new Set<string>();
  private nextId = 0;

  constructor(
    private readonly worker: Worker,
    onDeath: (t: TokenizerThread, e: Error) => void,
  ) {
    worker.on('message', (m: EncoderReply) => this.onReply(m));
    worker.on('error', (e) => onDeath(this, e));
    worker.on('exit', (code) => onDeath(this, new Error(`tokenizer thread exited with code ${code}`)));
  }

  encode(model: string, source: EncoderSource, texts: string[], countAll: boolean): Promise<EncodedBatch> {
    if (!this.models.has(model)) {
      this.post({ type: 'add', model, source });
      this.models.add(model);
    }
    const id = ++this.nextId;
    this.load += texts.length;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { texts: texts.length, resolve, reject });
      this.post({ type: 'encode', id, model, texts, countAll });
    });
  }

  failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.load = 0;
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners('exit');
    this.worker.removeAllListeners('error');
    this.failAll(new Error('tokenizer pool is closed'));
    await this.worker.terminate();
  }

  private post(msg: EncoderRequest): void {
    this.worker.postMessage(msg);
  }

  private onReply(m: EncoderReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.load -= p.texts;
    if (m.type === 'encoded') p.resolve(m);
    else p.reject(new Error(m.message));
  }
}

export class TokenizerPool implements TextEncoding {
  private readonly threads: TokenizerThread[] = [];
  private readonly loaders = new Map<string, DataLoader<string, Encoding>>();
  private closed = false;
  /** Messages sent to threads (each carries one or more texts). */
  messages = 0;
  /** Texts tokenized on the event loop because no thread could. */
  fallbacks = 0;
  private readonly local = new LocalEncoding();

  /** `nice`: how much lower than the event loop the threads run (Linux nice steps). */
  constructor(
    size: number,
    private readonly nice = 0,
    private readonly warn: (msg: string, fields: Record<string, unknown>) => void = () => undefined,
  ) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  get size(): number {
    return this.threads.length;
  }

  encode(model: Model, text: string, countAll: boolean): Promise<Encoding> {
    const source = model.encoder.source;
    if (!source) return Promise.reject(new Error(`model ${model.name} has no tokenizer source for a tokenizer thread`));
    const lane = `${model.name}\u0000${countAll ? 1 : 0}`;
    let loader = this.loaders.get(lane);
    if (!loader) {
      loader = new DataLoader<string, Encoding>((texts) => this.send(model.name, source, texts, countAll), {
        cache: false,
        maxBatchSize: MAX_TEXTS_PER_MESSAGE,
        // Everything asked for while the event loop handles one round of I/O goes in one message.
        batchScheduleFn: (run) => setImmediate(run),
      });
      this.loaders.set(lane, loader);
    }
    return loader.load(text).catch((e: unknown) => {
      if (this.fallbacks++ === 0) this.warn('tokenizer thread failed; tokenizing on the event loop', { error: String((e as Error)?.message ?? e) });
      return this.local.encode(model, text, countAll);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.splice(0).map((t) => t.terminate()));
  }

  private async send(model: string, source: EncoderSource, texts: readonly string[], countAll: boolean): Promise<Encoding[]> {
    if (this.closed || this.threads.length === 0) throw new Error('tokenizer pool is closed');
    const thread = this.threads.reduce((a, b) => (b.load < a.load ? b : a));
    this.messages++;
    const batch = await thread.encode(model, source, [...texts], countAll);
    const out: Encoding[] = [];
    let at = 0;
    for (let i = 0; i < texts.length; i++) {
      const length = batch.lengths[i]!;
      out.push({
        encoded: {
          ids: Array.from(batch.ids.subarray(at, at + length)),
          fullLength: batch.fullLengths[i]!,
          truncated: batch.truncated[i] === 1,
          unknown: batch.unknown[i]!,
        },
        ms: batch.ms[i]!,
      });
      at += length;
    }
    return out;
  }

  private spawn(): void {
    const worker = new Worker(workerScript('tokenize/tokenizer-worker.js'), { workerData: { nice: this.nice } });
    this.threads.push(new TokenizerThread(worker, (t, e) => this.died(t, e)));
  }

  private died(thread: TokenizerThread, error: Error): void {
    const at = this.threads.indexOf(thread);
    if (at < 0) return;
    this.threads.splice(at, 1);
    thread.failAll(error);
    this.warn('tokenizer thread died; replacing it', { error: error.message });
    if (!this.closed) this.spawn();
  }
}
