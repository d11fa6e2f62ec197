// Tokenizer threads. Texts wait in a fair queue (one FIFO per client, priced in characters), and
// each thread is kept fed with at most two messages of texts at a time, composed in fair order, so
// that a client sending thousands of texts cannot make another client's one text wait behind them.
// Each thread builds a model's encoder from the model's tokenizer files the first time it needs it.
// A thread that dies is replaced; texts it held, and any text no thread can take, are tokenized on
// the event loop instead (slower under load, never an error), with a warning.
import { Worker } from 'node:worker_threads';
import { OverloadedError } from '../../errors/errors.js';
import { FairQueue } from '../../scheduler/fair-queue.js';
import type { Model } from '../model.js';
import { workerScript } from '../worker-script.js';
import type { EncodedBatch, EncoderReply, EncoderRequest } from './protocol.js';
import { settleHere, type EncodeJob, type Encoding, type TextEncoding } from './text-encoding.js';

/** Most texts, and characters, per message to a thread. */
const MAX_TEXTS_PER_MESSAGE = 64;
const MAX_CHARS_PER_MESSAGE = 256 * 1024;
/** Messages a thread holds at once: one computing, one ready behind it. */
const MESSAGES_PER_THREAD = 2;
/** Characters per turn of the fair queue. */
const QUANTUM_CHARS = 2048;

interface Pending {
  model: Model;
  text: string;
  /** Characters the tokenizer will really read (long texts are read only up to what the model takes). */
  cost: number;
  resolve: (e: Encoding) => void;
  reject: (e: Error) => void;
}

class TokenizerThread {
  private readonly messages = new Map<number, Pending[]>();
  private readonly models = new Set<string>();
  private nextId = 0;

  constructor(
    private readonly worker: Worker,
    private readonly onReply: (t: TokenizerThread) => void,
    onDeath: (t: TokenizerThread, e: Error) => void,
  ) {
    worker.on('message', (m: EncoderReply) => this.received(m));
    worker.on('error', (e) => onDeath(this, e));
    worker.on('exit', (code) => onDeath(this, new Error(`tokenizer thread exited with code ${code}`)));
  }

  get inFlight(): number {
    return this.messages.size;
  }

  send(items: Pending[]): void {
    for (const item of items) {
      if (this.models.has(item.model.name)) continue;
      this.post({ type: 'add', model: item.model.name, source: item.model.encoder.source! });
      this.models.add(item.model.name);
    }
    const id = ++this.nextId;
    this.messages.set(id, items);
    this.post({ type: 'encode', id, models: items.map((i) => i.model.name), texts: items.map((i) => i.text) });
  }

  /** Texts sent and not answered, taken back (the thread is gone). */
  takeBack(): Pending[] {
    const items = [...this.messages.values()].flat();
    this.messages.clear();
    return items;
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners('exit');
    this.worker.removeAllListeners('error');
    await this.worker.terminate();
  }

  private post(msg: EncoderRequest): void {
    this.worker.postMessage(msg);
  }

  private received(m: EncoderReply): void {
    const items = this.messages.get(m.id);
    if (!items) return;
    this.messages.delete(m.id);
    if (m.type === 'encoded') settle(items, m);
    else for (const item of items) fallback(item);
    this.onReply(this);
  }
}

/** Hands each text its ids (views into the message's one buffer). */
function settle(items: Pending[], batch: EncodedBatch): void {
  let at = 0;
  items.forEach((item, i) => {
    if (batch.errors[i]) return fallback(item);
    const length = batch.lengths[i]!;
    item.resolve({
      encoded: { ids: batch.ids.subarray(at, at + length), fullLength: batch.fullLengths[i]!, truncated: batch.truncated[i] === 1, unknown: batch.unknown[i]! },
      ms: batch.ms[i]!,
    });
    at += length;
  });
}

/** Tokenizes on the event loop what no thread could. */
function fallback(item: Pending): void {
  settleHere(item.model, item.text, item.resolve, item.reject);
}

export class TokenizerPool implements TextEncoding {
  private readonly threads: TokenizerThread[] = [];
  private readonly pending: FairQueue<Pending>;
  private pumpQueued = false;
  private closed = false;
  /** Messages sent to threads (each carries one or more texts). */
  messages = 0;
  /** Texts tokenized on the event loop because no thread could. */
  fallbacks = 0;

  /**
   * @param nice how much lower than the event loop the threads run (Linux nice steps).
   * @param maxPending most texts waiting for a thread; beyond it the heaviest client's newest are refused.
   */
  constructor(
    size: number,
    private readonly nice = 0,
    private readonly warn: (msg: string, fields: Record<string, unknown>) => void = () => undefined,
    maxPending = 16_384,
  ) {
    this.pending = new FairQueue<Pending>(QUANTUM_CHARS, maxPending);
    for (let i = 0; i < size; i++) this.spawn();
  }

  get size(): number {
    return this.threads.length;
  }

  /** Queues the text; the texts asked for in one turn of the event loop are sent to threads together. */
  encode(model: Model, job: EncodeJob): Promise<Encoding> {
    // A prefix of about 8 characters per token is what a long text costs to tokenize (text-encoder.ts).
    const longest = Math.max(1024, model.spec.maxTokens * 32);
    const out = new Promise<Encoding>((resolve, reject) => {
      if (this.closed || this.threads.length === 0) return this.onEventLoop({ model, text: job.text, cost: 0, resolve, reject });
      const item: Pending = { model, text: job.text, cost: Math.min(job.text.length, longest) + 1, resolve, reject };
      const dropped = this.pending.push(job.client, item, item.cost);
      dropped?.item.reject(new OverloadedError('too many texts waiting to be tokenized; retry later', { retryAfterMs: 1_000 }));
    });
    if (!this.pumpQueued) {
      this.pumpQueued = true;
      queueMicrotask(() => {
        this.pumpQueued = false;
        this.pump();
      });
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.terminate()));
    for (const item of [...this.pending.drain(), ...threads.flatMap((t) => t.takeBack())]) item.reject(new Error('tokenizer pool is closed'));
  }

  /** Sends messages while threads have room, composed from the fair queue. */
  private pump(): void {
    for (;;) {
      let thread: TokenizerThread | undefined;
      for (const t of this.threads) if (t.inFlight < MESSAGES_PER_THREAD && (!thread || t.inFlight < thread.inFlight)) thread = t;
      if (!thread || this.pending.size === 0) return;
      const items: Pending[] = [];
      let chars = 0;
      while (items.length < MAX_TEXTS_PER_MESSAGE && chars < MAX_CHARS_PER_MESSAGE) {
        const item = this.pending.shift();
        if (!item) break;
        items.push(item);
        chars += item.cost;
      }
      this.messages++;
      thread.send(items);
    }
  }

  private onEventLoop(item: Pending): void {
    if (this.fallbacks++ === 0) this.warn('no tokenizer thread available; tokenizing on the event loop', {});
    fallback(item);
  }

  private spawn(): void {
    const worker = new Worker(workerScript('tokenize/tokenizer-worker.js'), { workerData: { nice: this.nice } });
    this.threads.push(new TokenizerThread(worker, () => this.pump(), (t, e) => this.died(t, e)));
  }

  private died(thread: TokenizerThread, error: Error): void {
    const at = this.threads.indexOf(thread);
    if (at < 0) return;
    this.threads.splice(at, 1);
    this.warn('tokenizer thread died; replacing it', { error: error.message });
    for (const item of thread.takeBack()) this.onEventLoop(item);
    if (!this.closed) this.spawn();
    this.pump();
  }
}
