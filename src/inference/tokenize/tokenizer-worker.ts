// A tokenizer thread: holds one TextEncoder per model and turns messages of texts into token ids, so
// that tokenizing (a third of a small model's work per request) does not occupy the event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { createTextEncoder, type TextEncoder } from '../text-encoder.js';
import { lowerThreadPriority } from '../thread-priority.js';
import type { EncodedBatch, EncoderRequest } from './protocol.js';

const port = parentPort!;
const encoders = new Map<string, TextEncoder | Error>();

lowerThreadPriority((workerData as { nice?: number } | undefined)?.nice ?? 0);

function encodeBatch(id: number, models: string[], texts: string[]): EncodedBatch {
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
    errors: new Array<string>(n).fill(''),
  };
  const all: Int32Array[] = [];
  let total = 0;
  texts.forEach((text, i) => {
    const encoder = encoders.get(models[i]!);
    if (!(encoder && !(encoder instanceof Error))) {
      out.errors[i] = encoder instanceof Error ? `tokenizer of model ${models[i]} cannot be built: ${encoder.message}` : `no tokenizer for model ${models[i]}`;
      return;
    }
    const started = performance.now();
    const e = encoder.encode(text);
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
    // Already built once on the main thread, so this does not fail in practice; if it does, that
    // model's texts fail with a clear error instead of the thread dying.
    try {
      encoders.set(msg.model, createTextEncoder(msg.source));
    } catch (e) {
      encoders.set(msg.model, e as Error);
    }
    return;
  }
  try {
    const reply = encodeBatch(msg.id, msg.models, msg.texts);
    port.postMessage(reply, [reply.ids, reply.lengths, reply.fullLengths, reply.truncated, reply.unknown, reply.ms].map((a) => a.buffer as ArrayBuffer));
  } catch (e) {
    port.postMessage({ type: 'error', id: msg.id, message: (e as Error).message ?? String(e) });
  }
});
