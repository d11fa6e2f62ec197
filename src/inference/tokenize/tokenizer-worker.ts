// A tokenizer thread: holds one TextEncoder per model and turns batches of texts into token ids, so
// that tokenizing (a third of a small model's work per request) does not occupy the event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { createTextEncoder, type TextEncoder } from '../text-encoder.js';
import { lowerThreadPriority } from '../thread-priority.js';
import type { EncodedBatch, EncoderReply, EncoderRequest } from './protocol.js';

const port = parentPort!;
const encoders = new Map<string, TextEncoder>();

lowerThreadPriority((workerData as { nice?: number } | undefined)?.nice ?? 0);

function encodeBatch(id: number, encoder: TextEncoder, texts: string[], countAll: boolean): EncodedBatch {
  const n = texts.length;
  const out: EncodedBatch = {
    type: 'encoded',
    id,
    ids: new Int32Array(0),
    lengths: new Int32Array(n),
    fullLengths: new Int32Array(n),
    truncated: new Uint8Array(n),
    unknown: new Int32Array(n),
    ms: new Float64Array(n),
  };
  const all: number[][] = [];
  let total = 0;
  texts.forEach((text, i) => {
    const started = performance.now();
    const e = encoder.encode(text, countAll);
    out.ms[i] = performance.now() - started;
    all.push(e.ids);
    total += e.ids.length;
    out.lengths[i] = e.ids.length;
    out.fullLengths[i] = e.fullLength;
    out.truncated[i] = e.truncated ? 1 : 0;
    out.unknown[i] = e.unknown;
  });
  out.ids = new Int32Array(total);
  let at = 0;
  for (const ids of all) {
    out.ids.set(ids, at);
    at += ids.length;
  }
  return out;
}

port.on('message', (msg: EncoderRequest) => {
  if (msg.type === 'add') {
    // Already loaded once on the main thread, so this does not fail in practice; if it does, the
    // model's encode requests fail with a clear error instead of the thread dying.
    try {
      encoders.set(msg.model, createTextEncoder(msg.source));
    } catch {
      encoders.delete(msg.model);
    }
    return;
  }
  let reply: EncoderReply;
  try {
    const encoder = encoders.get(msg.model);
    if (!encoder) throw new Error(`no tokenizer for model ${msg.model}`);
    reply = encodeBatch(msg.id, encoder, msg.texts, msg.countAll);
  } catch (e) {
    reply = { type: 'error', id: msg.id, message: (e as Error).message ?? String(e) };
  }
  const transfer =
    reply.type === 'encoded' ? [reply.ids, reply.lengths, reply.fullLengths, reply.truncated, reply.unknown, reply.ms].map((a) => a.buffer as ArrayBuffer) : [];
  port.postMessage(reply, transfer);
});
