// One typed, validated configuration object, read from the environment once at start-up.
// Every variable is documented where it is declared, with its default; a bad value stops the
// process with a message naming the variable, never a half-configured server.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The repository's models/ folder, found from this file so that the cwd does not matter. */
const BUILT_IN_MODELS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');

const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const executionProvider = z.enum(['cpu', 'cuda']);

export const configSchema = z.object({
  /** PORT: TCP port of the HTTP server; 0 picks a free one (tests). */
  PORT: int(4000, 0, 65535),
  /** HOST: address to bind; 0.0.0.0 so that containers can be reached. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** MODELS_DIR: model repository, one folder per model: an ONNX export as Optimum, transformers.js or sentence-transformers write it, model.json optional (docs/models.md). */
  MODELS_DIR: z.string().min(1).default(BUILT_IN_MODELS),
  /** MAX_TEXT_CHARS: longest text accepted, in characters (UTF-16 code units), before tokenizing. */
  MAX_TEXT_CHARS: int(200_000, 1),
  /** MAX_BATCH_TEXTS: most texts in one classifyBatch/embedBatch call. */
  MAX_BATCH_TEXTS: int(256, 1),
  /** MAX_BODY_BYTES: largest HTTP request body; larger ones get 413 with BAD_USER_INPUT. */
  MAX_BODY_BYTES: int(8 * 1024 * 1024, 1024),
  /**
   * BATCH_MAX_SIZE: most texts in one batch. The batch is then cut into model calls by the model's
   * measured call cost (inference/padding-plan.ts), so a large value does not force large calls.
   */
  BATCH_MAX_SIZE: int(32, 1, 4096),
  /**
   * BATCH_MAX_DELAY_MS: how long a batch waits for more texts when a worker is free. 0 (default) sends
   * it at once: under load batches still grow, because texts queue while every worker is busy.
   */
  BATCH_MAX_DELAY_MS: z.coerce.number().min(0).max(1000).default(0),
  /** BATCH_MAX_QUEUE: most texts waiting or computing per model; beyond it requests fail with OVERLOADED. */
  BATCH_MAX_QUEUE: int(2048, 1),
  /** BATCH_MAX_TOKENS: most padded tokens (rows x longest row) in one model call, like TEI's max-batch-tokens. */
  BATCH_MAX_TOKENS: int(16_384, 1),
  /**
   * BATCH_MAX_PADDING_RATIO: a hard cap on padded tokens per real token in one call (1.3 = at most 30%
   * padding). Unset (default): no cap; each batch is cut where the model's measured call cost says
   * padding costs more than another call (see inference/padding-plan.ts).
   */
  BATCH_MAX_PADDING_RATIO: z.coerce.number().min(1).default(Number.POSITIVE_INFINITY),
  /**
   * INFERENCE_WORKERS: worker threads per model running onnxruntime; 0 runs it on the main thread.
   * `auto` (default): chosen per model at load from one timed call (inference/onnx/open-runner.ts):
   * a model whose typical call takes long enough for threads inside one call to pay (a MiniLM-sized
   * model) gets one worker using every core; a small model gets one single-threaded worker per core,
   * which runs more calls side by side; with a GPU provider, one worker.
   */
  INFERENCE_WORKERS: z
    .union([z.literal('auto'), z.coerce.number().int().min(0).max(64)])
    .default('auto'),
  /**
   * CPU_CORES: cores the gateway may use, for sizing its inference threads. Default: what Node sees
   * (os.availableParallelism()); in a container, set it to the CPU request, since Node sees the node's
   * cores, not the container's quota.
   */
  CPU_CORES: int(availableParallelism(), 1, 1024),
  /**
   * TOKENIZER_THREADS: threads that turn texts into token ids, so that the event loop does not (a third
   * of a small model's work per request). 0 tokenizes on the event loop. Default: 1 (0 on one core).
   */
  TOKENIZER_THREADS: int(Math.min(1, availableParallelism() - 1), 0, 64),
  /**
   * INFERENCE_WORKER_NICE: how much lower (Linux nice steps) the inference and tokenizer threads run
   * than the event loop, so that HTTP and health checks get a core first while models are saturated. 0 turns it off.
   */
  INFERENCE_WORKER_NICE: int(10, 0, 19),
  /** ORT_EXECUTION_PROVIDERS: comma-separated, in order of preference; cuda falls back to cpu with a warning. */
  ORT_EXECUTION_PROVIDERS: z
    .string()
    .default('cpu')
    .transform((s) => s.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean))
    .pipe(z.array(executionProvider).min(1)),
  /** ORT_GRAPH_OPTIMIZATION: onnxruntime graph optimisation level. */
  ORT_GRAPH_OPTIMIZATION: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
  /**
   * ORT_INTRA_OP_THREADS: threads per model call. 0 (default): with workers, the cores shared out
   * among them (at least 1 each); on the main thread, onnxruntime's own default (every core).
   */
  ORT_INTRA_OP_THREADS: int(0, 0, 256),
  /**
   * ORT_ALLOW_SPINNING: let onnxruntime's idle pool threads spin-wait for work. Off by default: on a
   * few cores, spinning threads take the CPU the event loop needs to answer requests.
   */
  ORT_ALLOW_SPINNING: z.stringbool().default(false),
  /**
   * ONNX_VARIANT: which weights file to load where a model ships several: `fp32` (model.onnx, in onnx/
   * or at the top) or `quantized` (its int8 file: model_quantized.onnx, model_int8.onnx, model_uint8.onnx
   * or a sentence-transformers model_qint8_<isa>.onnx; a model without one loads its fp32 file and says
   * so in the log). Default fp32.
   */
  ONNX_VARIANT: z.enum(['fp32', 'quantized']).default('fp32'),
  /** MODEL_VARIANTS: per-model override of ONNX_VARIANT, e.g. `spam-bert=quantized,other=fp32`. */
  MODEL_VARIANTS: z
    .string()
    .default('')
    .transform((s, ctx) => {
      const out: Record<string, 'fp32' | 'quantized'> = {};
      for (const pair of s.split(',').map((p) => p.trim()).filter(Boolean)) {
        const [name, variant] = pair.split('=').map((p) => p.trim());
        if (!name || (variant !== 'fp32' && variant !== 'quantized')) {
          ctx.addIssue({ code: 'custom', message: `expected name=fp32|quantized, got "${pair}"` });
          return z.NEVER;
        }
        out[name] = variant;
      }
      return out;
    }),
  /**
   * MODEL_TIMEOUT_MS: longest one model call may compute, timed from when a worker starts it (time
   * queued does not count). A slower call fails, counts against the breaker, and its worker is replaced.
   */
  MODEL_TIMEOUT_MS: int(10_000, 1),
  /**
   * INFERENCE_DEADLINE_MS: longest a text may wait for its model and compute, together. A text still
   * queued at its deadline fails with OVERLOADED (or is answered by a fallback) instead of waiting on.
   */
  INFERENCE_DEADLINE_MS: int(30_000, 1),
  /**
   * FAIR_SHARE: share each model between clients (API keys, or addresses when anonymous) by deficit
   * round robin priced in tokens, so that one client's flood cannot starve another's small requests.
   * `off` serves all texts first come, first served (for comparison in the benchmark).
   */
  FAIR_SHARE: z.enum(['on', 'off']).default('on'),
  /** BREAKER_FAILURE_RATIO: share of failed calls among the last BREAKER_WINDOW that opens a model's breaker. */
  BREAKER_FAILURE_RATIO: z.coerce.number().gt(0).max(1).default(0.5),
  /** BREAKER_WINDOW: model calls the breaker remembers. */
  BREAKER_WINDOW: int(20, 1),
  /** BREAKER_MIN_CALLS: calls in the window before the breaker may open. */
  BREAKER_MIN_CALLS: int(5, 1),
  /** BREAKER_HALF_OPEN_AFTER_MS: how long an open breaker waits before letting a test call through. */
  BREAKER_HALF_OPEN_AFTER_MS: int(10_000, 1),
  /** CACHE_MAX_ENTRIES: results kept in the in-process LRU tier (0 turns the cache off). */
  CACHE_MAX_ENTRIES: int(10_000, 0),
  /** CACHE_MAX_BYTES: memory the in-process tier may use for results. */
  CACHE_MAX_BYTES: int(64 * 1024 * 1024, 1024),
  /** CACHE_TTL_MS: how long a cached result stays valid, in both tiers. */
  CACHE_TTL_MS: int(3_600_000, 1),
  /** REDIS_URL: shared cache tier for all replicas, e.g. redis://redis:6379; unset = memory tier only. */
  REDIS_URL: z.string().url().optional(),
  /** REDIS_TIMEOUT_MS: longest a request waits for Redis before treating it as a miss. */
  REDIS_TIMEOUT_MS: int(50, 1),
  /** DRIFT_WINDOW: answers per model the drift gauges are computed over (rolling). */
  DRIFT_WINDOW: int(1000, 10),
  /**
   * SHUTDOWN_GRACE_MS: on SIGTERM or SIGINT, the most the whole shutdown takes, signal to exit. Requests
   * in flight and queued get it less min(1 s, a quarter of it), kept for closing models, Redis and
   * tracing; whatever is still running then is cut. Kubernetes: keep terminationGracePeriodSeconds
   * above preStop + this.
   */
  SHUTDOWN_GRACE_MS: int(10_000, 0),
  /** LOG_LEVEL: pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the configuration from `env`; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}
