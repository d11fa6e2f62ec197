// A worker thread that owns one onnxruntime session. onnxruntime-node runs a model synchronously on
// the thread that calls session.run, so running it here keeps the main thread free for HTTP and
// GraphQL while a batch computes.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { chooseProviders, sessionOptions } from './session-options.js';
import { runSession } from './session-run.js';
import { lowerThreadPriority } from '../thread-priority.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort!;
let session: ort.InferenceSession | undefined;
/** Same model with more threads, for runs while the other workers are idle. */
let solo: ort.InferenceSession | undefined;

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

port.on('message', async (msg: WorkerRequest) => {
  try {
    switch (msg.type) {
      case 'init': {
        // Before the sessions start their threads, which inherit it: inference yields to the event loop.
        lowerThreadPriority(msg.nice);
        const { providers, unavailable } = chooseProviders(msg.settings.ORT_EXECUTION_PROVIDERS);
        session = await ort.InferenceSession.create(msg.file, sessionOptions(msg.settings, providers));
        if (msg.soloThreads > 0) {
          // Spinning is allowed here only: a solo run starts when every other worker is idle, so its
          // threads spin on cores nobody else wants, and a lone request answers sooner for it.
          solo = await ort.InferenceSession.create(msg.file, sessionOptions({ ...msg.settings, ORT_INTRA_OP_THREADS: msg.soloThreads, ORT_ALLOW_SPINNING: true }, providers));
        }
        reply({
          type: 'ready',
          inputNames: [...session.inputNames],
          outputNames: [...session.outputNames],
          provider: providers[0]!,
          unavailable,
        });
        return;
      }
      case 'run': {
        const started = performance.now();
        const result = await runSession((msg.solo && solo) || session!, msg, msg.outputs);
        const computeMs = performance.now() - started;
        const transfer: ArrayBuffer[] = [];
        for (const out of Object.values(result)) {
          // A private copy: onnxruntime's output buffer may be external memory that cannot be transferred.
          out.data = out.data.slice();
          transfer.push(out.data.buffer as ArrayBuffer);
        }
        reply({ type: 'result', id: msg.id, outputs: result as Record<string, { data: Float32Array; dims: number[] }>, computeMs }, transfer);
        return;
      }
      case 'close': {
        await Promise.all([session?.release(), solo?.release()]);
        session = solo = undefined;
        reply({ type: 'closed' });
        return;
      }
    }
  } catch (e) {
    reply({ type: 'error', id: msg.type === 'run' ? msg.id : null, message: (e as Error).message ?? String(e) });
  }
});
