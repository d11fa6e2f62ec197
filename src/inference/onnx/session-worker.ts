// A worker thread that owns one onnxruntime session. onnxruntime-node runs a model synchronously on
// the thread that calls session.run, so running it here keeps the main thread free for HTTP and
// GraphQL while a batch computes.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { chooseProviders, sessionOptions } from './session-options.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort!;
let session: ort.InferenceSession | undefined;

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

port.on('message', async (msg: WorkerRequest) => {
  try {
    switch (msg.type) {
      case 'init': {
        const { providers, unavailable } = chooseProviders(msg.settings.ORT_EXECUTION_PROVIDERS);
        session = await ort.InferenceSession.create(msg.file, sessionOptions(msg.settings, providers));
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
        const dims = [msg.batch, msg.sequence];
        const all: Record<string, ort.Tensor> = {
          input_ids: new ort.Tensor('int64', msg.inputIds, dims),
          attention_mask: new ort.Tensor('int64', msg.attentionMask, dims),
          token_type_ids: new ort.Tensor('int64', msg.tokenTypeIds, dims),
        };
        const feeds: Record<string, ort.Tensor> = {};
        for (const name of session!.inputNames) feeds[name] = all[name]!;
        const result = await session!.run(feeds, msg.outputs);
        const outputs: Record<string, { data: Float32Array; dims: number[] }> = {};
        const transfer: ArrayBuffer[] = [];
        for (const name of msg.outputs) {
          const t = result[name]!;
          if (t.type !== 'float32') throw new Error(`output ${name} is ${t.type}, expected float32`);
          // A private copy: onnxruntime's output buffer may be external memory that cannot be transferred.
          const data = (t.data as Float32Array).slice();
          outputs[name] = { data, dims: [...t.dims] };
          transfer.push(data.buffer as ArrayBuffer);
        }
        reply({ type: 'result', id: msg.id, outputs }, transfer);
        return;
      }
      case 'close': {
        await session?.release();
        session = undefined;
        reply({ type: 'closed' });
        return;
      }
    }
  } catch (e) {
    reply({ type: 'error', id: msg.type === 'run' ? msg.id : null, message: (e as Error).message ?? String(e) });
  }
});
