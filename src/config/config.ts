// One typed, validated configuration object, read from the environment once at start-up.
// Every variable is documented where it is declared, with its default; a bad value stops the
// process with a message naming the variable, never a half-configured server.
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseApiKeys, readApiKeysFile, SHA256_HEX, type ApiKeyEntry } from './api-keys-file.js';

/** The repository's models/ folder, found from this file so that the cwd does not matter. */
const BUILT_IN_MODELS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');

const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const executionProvider = z.enum(['cpu', 'cuda']);

/** A comma-separated list, trimmed, empty items dropped. */
const list = () =>
  z
    .string()
    .default('')
    .transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean));

/** An http(s) origin as browsers send it: scheme, host, optional port; no path. */
const ORIGIN = /^https?:\/\/[^/\s?#]+$/;

/** The declared variables; configSchema adds the defaults that depend on other variables. */
export const configFields = z.object({
  /** PORT: TCP port of the HTTP server; 0 picks a free one (tests). */
  PORT: int(4000, 0, 65535),
  /** HOST: address to bind; 0.0.0.0 so that containers can be reached. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * MODELS_DIR: model repository, one folder per model: an ONNX export as Optimum, transformers.js or
   * sentence-transformers write it, model.json optional (docs/models.md).
   * @default models/ of this repository
   */
  MODELS_DIR: z.string().min(1).default(BUILT_IN_MODELS),
  /**
   * MODELS_WATCH_INTERVAL_MS: how often the model repository is checked for added, changed or
   * removed model folders and rollout.json files (file sizes and times only; nothing is read). A
   * change is loaded beside what serves and swapped in (hot reload, docs/models.md). 0 turns the
   * watch off; SIGHUP reloads either way.
   */
  MODELS_WATCH_INTERVAL_MS: int(5000, 0),
  /**
   * MODELS_RELOAD_DEBOUNCE_MS: how long the watch waits for a changed repository to stay unchanged
   * before reloading it, so that a folder still being copied is not loaded half-written. SIGHUP
   * reloads at once.
   */
  MODELS_RELOAD_DEBOUNCE_MS: int(2000, 0, 600_000),
  /**
   * SHADOW_MAX_QUEUE: most shadow texts (rollout.json "shadow") waiting or computing per model;
   * further samples are dropped and counted (nlp_shadow_texts_total), never queued behind clients.
   */
  SHADOW_MAX_QUEUE: int(64, 1, 100_000),
  /** MAX_TEXT_CHARS: longest text accepted, in characters (UTF-16 code units), before tokenizing. */
  MAX_TEXT_CHARS: int(200_000, 1),
  /** MAX_BATCH_TEXTS: most texts in one classifyBatch/embedBatch call. */
  MAX_BATCH_TEXTS: int(256, 1),
  /** MAX_BODY_BYTES: largest HTTP request body; larger ones get 413 with BAD_USER_INPUT. */
  MAX_BODY_BYTES: int(8 * 1024 * 1024, 1024),
  /**
   * BATCH_MAX_SIZE: most texts a model's scheduler takes at once, in fair order, when a worker is free;
   * they are then cut into model calls by the model's measured call cost (scheduler/batch-plan.ts), so
   * a large value does not force large calls.
   */
  BATCH_MAX_SIZE: int(32, 1, 4096),
  /**
   * BATCH_MAX_DELAY_MS: how long texts wait for more to share a call when a worker is free. 0 (default)
   * starts them at once: under load batches still grow, because texts queue while every worker is busy.
   */
  BATCH_MAX_DELAY_MS: z.coerce.number().min(0).max(1000).default(0),
  /**
   * BATCH_MAX_QUEUE: most texts waiting per model; beyond it the client holding the most gives way
   * (its newest text fails with OVERLOADED), or the new text does when it is that client.
   */
  BATCH_MAX_QUEUE: int(2048, 1),
  /** BATCH_MAX_TOKENS: most padded tokens (rows x longest row) in one model call, like TEI's max-batch-tokens. */
  BATCH_MAX_TOKENS: int(16_384, 1),
  /**
   * BATCH_MAX_PADDING_RATIO: a hard cap on padded tokens per real token in one call (1.3 = at most 30%
   * padding). Unset (default): no cap; each batch is cut where the model's measured call cost says
   * padding costs more than another call (see scheduler/batch-plan.ts).
   * @default unset (no cap)
   */
  BATCH_MAX_PADDING_RATIO: z.coerce.number().min(1).default(Number.POSITIVE_INFINITY),
  /**
   * INFERENCE_WORKERS: worker threads per model running onnxruntime; 0 runs it on the main thread.
   * `auto` (default): chosen per model at load from one timed call (inference/onnx/open-runner.ts):
   * a model whose typical call takes long enough for threads inside one call to pay (a MiniLM-sized
   * model) gets one worker using every core; a small model gets one single-threaded worker per core,
   * which runs more calls side by side; with a GPU provider, one worker.
   * @default auto
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
  /** LOG_LEVEL: least severe log level written; logs are JSON lines on stdout and never hold input text. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  // ---- facing the internet (docs/security.md) ------------------------------------------------
  /**
   * NODE_ENV: `production` turns the IDE, introspection and field suggestions off unless they are set;
   * the gateway reads it for nothing else.
   */
  NODE_ENV: z.string().optional(),
  /**
   * GRAPHQL_INTROSPECTION: answer __schema/__type queries.
   * @default on, off when NODE_ENV is production
   */
  GRAPHQL_INTROSPECTION: z.stringbool().optional(),
  /**
   * GRAPHQL_SUGGESTIONS: "Did you mean ...?" in validation errors.
   * @default on, off when NODE_ENV is production
   */
  GRAPHQL_SUGGESTIONS: z.stringbool().optional(),
  /**
   * GRAPHQL_MAX_QUERY_CHARS: longest query document, in characters (texts longer than this go in
   * variables). Refused with QUERY_TOO_COMPLEX (limit: size) before it is parsed.
   */
  GRAPHQL_MAX_QUERY_CHARS: int(262_144, 1024),
  /**
   * GRAPHQL_MAX_TOKENS: most lexical tokens in a document (a string literal is one token); parsing
   * stops there, before validation, whose cost grows with the square of repeated fields.
   */
  GRAPHQL_MAX_TOKENS: int(1000, 50),
  /** GRAPHQL_MAX_ALIASES: most aliased fields in an operation (fragments counted once). */
  GRAPHQL_MAX_ALIASES: int(15, 0),
  /** GRAPHQL_MAX_DEPTH: deepest field nesting (introspection exempt). */
  GRAPHQL_MAX_DEPTH: int(6, 1),
  /** GRAPHQL_MAX_DIRECTIVES: most directives in an operation. */
  GRAPHQL_MAX_DIRECTIVES: int(20, 0),
  /** GRAPHQL_MAX_COST: most field cost (graphql-armor: objects 2, scalars 1, x1.5 per level) in an operation. */
  GRAPHQL_MAX_COST: int(5000, 1),
  /**
   * GRAPHQL_MAX_FIELD_REPEATS: most times one response name may be selected in one selection set
   * (fragments included). Validation compares every such pair, so 1,000 repeats cost a second.
   */
  GRAPHQL_MAX_FIELD_REPEATS: int(20, 1),
  /** MAX_JSON_DEPTH: deepest nesting of arrays and objects in a request body or GET variables. */
  MAX_JSON_DEPTH: int(32, 2, 10_000),
  /** MAX_JSON_VALUES: most arrays, objects and list items in a request body (parsing millions blocks the server). */
  MAX_JSON_VALUES: int(10_000, 16),
  /** MAX_OPERATION_TEXTS: most texts one operation may process, aliases and batch items together. */
  MAX_OPERATION_TEXTS: int(512, 1),
  /**
   * MAX_OPERATION_TOKENS: most tokens one operation may process, estimated before it runs as
   * min(model maxTokens, characters + special tokens) per text. Default: a full batch of 256 texts at 512 tokens.
   */
  MAX_OPERATION_TOKENS: int(131_072, 1),
  /**
   * CORS_ORIGINS: browser origins allowed to call /graphql from another site, comma-separated
   * (`https://app.example.com`), or `*` for any. Default: none (browsers on other origins are refused).
   */
  CORS_ORIGINS: list().pipe(z.array(z.union([z.literal('*'), z.string().regex(ORIGIN, 'expected an origin like https://app.example.com')]))),
  /** CORS_MAX_AGE_SECONDS: how long browsers may cache a preflight answer. */
  CORS_MAX_AGE_SECONDS: int(600, 0, 86_400),
  /**
   * API_KEYS_FILE: JSON file of API keys (SHA-256 digests, per-key models and rates; docs/security.md).
   * When this or API_KEYS is set, every /graphql request needs a key. Default: unset, no keys.
   */
  API_KEYS_FILE: z.string().min(1).optional(),
  /** API_KEYS: the same document inline (for secrets mounted as variables); not with API_KEYS_FILE. */
  API_KEYS: z.string().min(1).optional(),
  /**
   * METRICS_TOKEN_SHA256: SHA-256 digests (hex, comma-separated) of bearer tokens that may read
   * /metrics; when set, /metrics needs one. Independent of API keys. Default: unset, /metrics open.
   */
  METRICS_TOKEN_SHA256: list().pipe(z.array(z.string().regex(SHA256_HEX, 'expected 64 lowercase hex digits'))),
  /**
   * TRUST_PROXY_HOPS: reverse proxies in front of the gateway that append to X-Forwarded-For; the
   * client address (identity of anonymous clients) is then read that many entries from the right.
   * 0 (default): the peer address; X-Forwarded-For is ignored (a client could write anything there).
   */
  TRUST_PROXY_HOPS: int(0, 0, 16),
  /**
   * RATE_LIMIT_TOKENS_PER_SECOND: refill rate of each client's token bucket (per API key, or per client
   * address when anonymous), in model tokens; shared by replicas through REDIS_URL. 0 (default): off.
   */
  RATE_LIMIT_TOKENS_PER_SECOND: z.coerce.number().min(0).default(0),
  /** RATE_LIMIT_BURST_TOKENS: size of a bucket (what a client may spend at once). Default: 10 seconds of the rate. */
  RATE_LIMIT_BURST_TOKENS: int(0, 0),
  /** RATE_LIMIT_MIN_TOKENS: least an operation is charged, so that floods of cheap queries are limited too. */
  RATE_LIMIT_MIN_TOKENS: int(10, 0),
  /**
   * GRAPHQL_IDE: serve the GraphiQL IDE to browsers on GET /graphql (and redirect GET / to it). The
   * IDE is bundled: the page loads nothing from outside the gateway.
   * @default on, off when NODE_ENV is production
   */
  GRAPHQL_IDE: z.stringbool().optional(),
});

/** The configuration with every default resolved (some depend on other variables). */
export const configSchema = configFields.transform(({ GRAPHQL_IDE, GRAPHQL_INTROSPECTION, GRAPHQL_SUGGESTIONS, API_KEYS, API_KEYS_FILE, ...rest }) => {
  const development = rest.NODE_ENV !== 'production';
  return {
    ...rest,
    GRAPHQL_IDE: GRAPHQL_IDE ?? development,
    GRAPHQL_INTROSPECTION: GRAPHQL_INTROSPECTION ?? development,
    GRAPHQL_SUGGESTIONS: GRAPHQL_SUGGESTIONS ?? development,
    RATE_LIMIT_BURST_TOKENS: rest.RATE_LIMIT_BURST_TOKENS || Math.ceil(rest.RATE_LIMIT_TOKENS_PER_SECOND * 10),
    /** Where API keys come from (read by loadConfig); both unset: keys are off. */
    keySources: { file: API_KEYS_FILE, inline: API_KEYS },
  };
});

export type Config = Omit<z.infer<typeof configSchema>, 'keySources'> & {
  /** Keys from API_KEYS_FILE or API_KEYS; undefined when keys are off. */
  apiKeys: ApiKeyEntry[] | undefined;
};

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
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), problem: `is invalid: ${i.message}` })));
  }
  const { keySources, ...config } = parsed.data;
  return { ...config, apiKeys: loadKeys(keySources.file, keySources.inline) };
}

function loadKeys(file: string | undefined, inline: string | undefined): ApiKeyEntry[] | undefined {
  if (file && inline) throw new ConfigError([{ variable: 'API_KEYS', problem: 'is set together with API_KEYS_FILE: set one of them' }]);
  try {
    if (file) return readApiKeysFile(file);
    if (inline) return parseApiKeys(inline);
  } catch (e) {
    throw new ConfigError([{ variable: file ? 'API_KEYS_FILE' : 'API_KEYS', problem: `is invalid: ${(e as Error).message}` }]);
  }
  return undefined;
}
