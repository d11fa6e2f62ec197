// A worker thread that owns one onnxruntime session of a model and runs its calls whole: pad, run,
// post-process (runCall). onnxruntime-node runs a graph synchronously on the calling thread, so
// running it here keeps the event loop free for HTTP and GraphQL while a call computes.
import { parentPort } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { resolvePost, type PostProcess } from '../runner.js';
import { lowerThreadPriority } from '../thread-priority.js';
import { probeCall, runCall } from './run-call.js';
import { openSession } from './session-options.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort!;
let session: ort.InferenceSession | undefined;
let post: Required<PostProcess> | undefined;
let padId = 0;

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

port.on('message', async (msg: WorkerRequest) => {
  try {
    switch (msg.type) {
      case 'init': {
        // Before the session starts its threads, which inherit it: inference yields to the event loop.
        lowerThreadPriority(msg.nice);
        const opened = await openSession(msg.file, msg.settings);
        session = opened.session;
        reply({ type: 'ready', inputNames: [...session.inputNames], outputNames: [...session.outputNames], provider: opened.providers[0]!, unavailable: opened.unavailable });
        return;
      }
      case 'configure':
        post = resolvePost(msg.post, session!.outputNames);
        padId = msg.padId;
        reply({ type: 'configured', id: msg.id, output: post.output });
        return;
      case 'probe': {
        const out = await probeCall(session!, msg.output, msg.padId, msg);
        reply({ type: 'probed', id: msg.id, dims: [...out.dims], computeMs: out.computeMs });
        return;
      }
      case 'run': {
        if (!post) throw new Error('runner not configured');
        const out = await runCall(session!, post, padId, msg);
        const transfer = [out.values.buffer as ArrayBuffer];
        if (out.norms) transfer.push(out.norms.buffer as ArrayBuffer);
        reply({ type: 'result', id: msg.id, ...out }, transfer);
        return;
      }
      case 'ping':
        reply({ type: 'pong', id: msg.id });
        return;
    }
  } catch (e) {
    reply({ type: 'error', id: msg.type === 'init' ? null : msg.id, message: (e as Error).message ?? String(e) });
  }
});
