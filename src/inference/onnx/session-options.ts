// Session options from configuration, and the execution-provider fallback.
import * as ort from 'onnxruntime-node';
import type { Config } from '../../config/config.js';

export type OnnxSettings = Pick<
  Config,
  'ORT_EXECUTION_PROVIDERS' | 'ORT_GRAPH_OPTIMIZATION' | 'ORT_INTRA_OP_THREADS' | 'ORT_ALLOW_SPINNING'
>;

export interface ProviderChoice {
  providers: string[];
  /** Providers asked for but not available in this build, in the order asked. */
  unavailable: string[];
}

/**
 * Keeps the requested providers this onnxruntime-node build can load. The npm package bundles only
 * the CPU provider (CUDA needs its optional download and a GPU), so `cuda` on a machine without it
 * degrades to CPU rather than failing start-up; the caller logs the downgrade once.
 */
export function chooseProviders(requested: readonly string[]): ProviderChoice {
  const known = new Map(ort.listSupportedBackends().map((b) => [b.name, b.bundled]));
  const providers: string[] = [];
  const unavailable: string[] = [];
  for (const p of requested) {
    if (p === 'cpu' || known.get(p) === true) providers.push(p);
    else unavailable.push(p);
  }
  if (!providers.includes('cpu')) providers.push('cpu');
  return { providers, unavailable };
}

/** A session of `file` on the providers available of those asked for (chooseProviders). */
export async function openSession(file: string, settings: OnnxSettings): Promise<ProviderChoice & { session: ort.InferenceSession }> {
  const choice = chooseProviders(settings.ORT_EXECUTION_PROVIDERS);
  const session = await ort.InferenceSession.create(file, sessionOptions(settings, choice.providers));
  return { ...choice, session };
}

export function sessionOptions(settings: OnnxSettings, providers: string[]): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    graphOptimizationLevel: settings.ORT_GRAPH_OPTIMIZATION,
    ...(settings.ORT_INTRA_OP_THREADS > 0 ? { intraOpNumThreads: settings.ORT_INTRA_OP_THREADS } : {}),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    extra: { session: { intra_op: { allow_spinning: settings.ORT_ALLOW_SPINNING ? '1' : '0' } } },
  };
}
