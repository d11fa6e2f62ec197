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

/** The declared variables; configSchema adds the defaults that depend on other variables. */
export const configFields = z.object({
  /** PORT: TCP port of the HTTP server; 0 picks a free one (tests). */
  PORT: int(4000, 0, 65535),
  /** HOST: address to bind; 0.0.0.0 so that containers can be reached. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * MODELS_DIR: model repository, one folder per model (Hugging Face layout + model.json).
   * @default models/ of this repository
   */
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
   * @default unset (no cap)
   */
  BATCH_MAX_PADDING_RATIO: z.coerce.number().min(1).default(Number.POSITIVE_INFINITY),
  /**
   * INFERENCE_WORKERS: worker threads per model running onnxruntime; 0 runs it on the main thread.
   * Default: 2 (1 on a single core). Measured on 2 cores, two single-threaded workers beat one worker
   * with two threads (npm run bench). With a GPU provider, 1 is enough.
   * @default 2 (1 on a single core)
   */
  INFERENCE_WORKERS: int(Math.min(2, availableParallelism()), 0, 64),
  /**
   * TOKENIZER_THREADS: threads that turn texts into token ids, so that the event loop does not (a third
   * of a small model's work per request). 0 tokenizes on the event loop. Default: 1 (0 on one core).
   * @default 1 (0 on a single core)
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
   * INFERENCE_SOLO_THREADS: threads for a call that starts while every other worker of the model is
   * idle (light load), so that a lone request gets every core instead of one worker's share; the
   * first worker keeps a second session for it. 0 turns it off. Default: every core, when that is more
   * than a worker's share. Costs one more session's memory per model; off when the first provider is a GPU.
   * @default every core
   */
  INFERENCE_SOLO_THREADS: int(-1, -1, 256).transform((n) => (n >= 0 ? n : availableParallelism())),
  /**
   * ORT_ALLOW_SPINNING: let onnxruntime's idle pool threads spin-wait for work. Off by default: on a
   * few cores, spinning threads take the CPU the event loop needs to answer requests.
   */
  ORT_ALLOW_SPINNING: z.stringbool().default(false),
  /**
   * ONNX_VARIANT: which weights file to load where a model ships several: `fp32` (onnx/model.onnx) or
   * `quantized` (onnx/model_quantized.onnx; models without one load model.onnx and say so in the log).
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
  /** MODEL_TIMEOUT_MS: longest one model call may take; a slower call fails and counts against the breaker. */
  MODEL_TIMEOUT_MS: int(10_000, 1),
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
  /** SHUTDOWN_GRACE_MS: on SIGTERM, how long requests in flight may take before the process exits. */
  SHUTDOWN_GRACE_MS: int(10_000, 0),
  /** LOG_LEVEL: least severe log level written; logs are JSON lines on stdout and never hold input text. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * GRAPHQL_IDE: serve the GraphiQL IDE to browsers on GET /graphql (and redirect GET / to it). The
   * IDE is bundled: the page loads nothing from outside the gateway.
   * @default on, off when NODE_ENV is production
   */
  GRAPHQL_IDE: z.stringbool().optional(),
  /** NODE_ENV: `production` turns the IDE off unless GRAPHQL_IDE is set; the gateway reads it for nothing else. */
  NODE_ENV: z.string().optional(),
});

export const configSchema = configFields.transform(({ GRAPHQL_IDE, ...rest }) => ({
  ...rest,
  GRAPHQL_IDE: GRAPHQL_IDE ?? rest.NODE_ENV !== 'production',
}));

export type Config = z.infer<typeof configSchema>;

export interface ConfigProblem {
  variable: string;
  problem: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} ${p.problem}`).join('; ')}`);
  }
}

/**
 * Reads the configuration from `env`; throws ConfigError naming every bad variable. An empty value
 * is a mistake, not a default: `PORT=` would otherwise read as port 0 (any free port).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const empty = Object.keys(configFields.shape).filter((name) => env[name] !== undefined && env[name]!.trim() === '');
  if (empty.length > 0) {
    throw new ConfigError(empty.map((variable) => ({ variable, problem: 'is empty: unset it for its default, or give a value' })));
  }
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), problem: `is invalid: ${i.message}` })));
}
