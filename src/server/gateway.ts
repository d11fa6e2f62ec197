// Start-up and shutdown of one gateway: listen first (so /healthz and /readyz answer while models
// load), then load and warm every model, then report ready. Shutdown drains before it exits.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { Batcher } from '../batching/batcher.js';
import type { Config } from '../config/config.js';
import { ModelRegistry } from '../inference/model-registry.js';
import { OnnxBackend } from '../inference/onnx/onnx-backend.js';
import { WorkerPoolBackend } from '../inference/onnx/worker-pool-backend.js';
import { LocalEncoding } from '../inference/tokenize/text-encoding.js';
import { TokenizerPool } from '../inference/tokenize/tokenizer-pool.js';
import { ResultCache } from '../resilience/cache/result-cache.js';
import { InferencePath } from '../resilience/inference-path.js';
import { buildGatewaySchema } from '../schema/build-schema.js';
import { HealthService } from '../service/health.js';
import { NlpService } from '../service/nlp-service.js';
import type { Logger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { GATEWAY_VERSION } from '../version.js';
import { createApollo } from './apollo.js';
import type { BaseContext } from './graphql-handler.js';
import { createRequestHandler } from './http-routes.js';
import { RequestTracker } from './request-tracker.js';

export interface Gateway {
  port: number;
  url: string;
  /** Resolves when every model is loaded and warmed up; rejects when one cannot be. */
  ready: Promise<void>;
  health: HealthService;
  batcher: Batcher;
  /** Stops taking work, lets requests in flight finish (up to the grace period), frees the models. */
  shutdown(): Promise<void>;
}

/** Workers share the cores out unless intra-op threads are set: they must not fight over them. */
function workerSettings(config: Config): Config {
  if (config.ORT_INTRA_OP_THREADS > 0) return config;
  return { ...config, ORT_INTRA_OP_THREADS: Math.max(1, Math.floor(availableParallelism() / config.INFERENCE_WORKERS)) };
}

/**
 * Solo-session threads: only worth a second session when they are more than a worker's own share, and
 * only on CPU (a GPU session is not made faster by CPU threads, and a second one costs device memory).
 */
function soloThreads(config: Config, perWorker: number): number {
  if (config.ORT_EXECUTION_PROVIDERS[0] !== 'cpu') return 0;
  return config.INFERENCE_SOLO_THREADS > perWorker ? config.INFERENCE_SOLO_THREADS : 0;
}

function createCache(config: Config, telemetry: Telemetry, log: Logger): ResultCache | undefined {
  if (config.CACHE_MAX_ENTRIES === 0) return undefined;
  const cache = new ResultCache({
    maxEntries: config.CACHE_MAX_ENTRIES,
    maxBytes: config.CACHE_MAX_BYTES,
    ttlMs: config.CACHE_TTL_MS,
    redisUrl: config.REDIS_URL,
    redisTimeoutMs: config.REDIS_TIMEOUT_MS,
    onLookup: telemetry.onCacheLookup,
    onRedisState: (state) =>
      state === 'down'
        ? log.warn({ redis: state }, 'shared cache tier unavailable; answering from models')
        : log.info({ redis: state }, 'shared cache tier state'),
    warn: (msg, fields) => log.warn(fields, msg),
  });
  if (config.REDIS_URL) telemetry.metrics.watchRedis(() => (cache.state().redis === 'connected' ? 1 : 0));
  return cache;
}

/** The gateway cannot listen on its address (in use, not permitted): a deployment mistake, not a bug. */
export class ListenError extends Error {
  override name = 'ListenError';
  constructor(
    readonly code: string,
    readonly host: string,
    readonly port: number,
  ) {
    super(`cannot listen on ${host}:${port}: ${code === 'EADDRINUSE' ? 'address already in use' : code}`);
  }
}

const variantOf = (config: Config) => (name: string) => config.MODEL_VARIANTS[name] ?? config.ONNX_VARIANT;

export async function startGateway(config: Config, log: Logger): Promise<Gateway> {
  const registry = await ModelRegistry.discover(config.MODELS_DIR);
  // Mistakes in the folders' files stop start-up before it listens; only loading the weights and
  // warming up happen while /healthz already answers.
  const problem = (await registry.inspect(variantOf(config))).find((r) => r.error);
  if (problem?.error) throw problem.error;
  const batcher = new Batcher({ maxBatchSize: config.BATCH_MAX_SIZE, maxDelayMs: config.BATCH_MAX_DELAY_MS, maxQueue: config.BATCH_MAX_QUEUE });
  const telemetry = new Telemetry(batcher, log, config.DRIFT_WINDOW);
  batcher.observer = telemetry.batchObserver;
  telemetry.metrics.initModels(registry.names);

  const cache = createCache(config, telemetry, log);
  const encoding =
    config.TOKENIZER_THREADS > 0
      ? new TokenizerPool(config.TOKENIZER_THREADS, config.INFERENCE_WORKER_NICE, (msg, fields) => log.warn(fields, msg))
      : new LocalEncoding();
  const path = new InferencePath(
    registry,
    batcher,
    {
      failureRatio: config.BREAKER_FAILURE_RATIO,
      window: config.BREAKER_WINDOW,
      minimumCalls: config.BREAKER_MIN_CALLS,
      halfOpenAfterMs: config.BREAKER_HALF_OPEN_AFTER_MS,
      timeoutMs: config.MODEL_TIMEOUT_MS,
    },
    cache,
    telemetry.pathHooks,
    encoding,
  );
  const health = new HealthService(registry, GATEWAY_VERSION, {
    breakerOf: (model) => path.breakerState(model),
    cache: () => {
      if (!cache) return { enabled: false, entries: 0, bytes: 0, redis: 'disabled' };
      const state = cache.state();
      return { enabled: true, entries: state.memory.entries, bytes: state.memory.bytes, redis: state.redis };
    },
  });
  const context: BaseContext = { nlp: new NlpService(registry, path, config), registry, health };

  const httpServer = createServer();
  const apollo = createApollo({
    schema: await buildGatewaySchema(),
    httpServer,
    log,
    graceMs: config.SHUTDOWN_GRACE_MS,
    plugins: telemetry.apolloPlugins((name) => registry.names.includes(name)),
  });
  await apollo.start();
  const requests = new RequestTracker();
  httpServer.on(
    'request',
    createRequestHandler({
      apollo,
      context,
      health,
      metrics: telemetry.metrics.registry,
      requests,
      maxBodyBytes: config.MAX_BODY_BYTES,
      retryAfterSeconds: 1,
      ide: config.GRAPHQL_IDE,
      version: GATEWAY_VERSION,
      onError: (error) => log.error({ err: error }, 'unhandled error in a route'),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', (e: NodeJS.ErrnoException) => reject(e.code ? new ListenError(e.code, config.HOST, config.PORT) : e));
    httpServer.listen(config.PORT, config.HOST, () => resolve());
  }).catch(async (e: unknown) => {
    await Promise.all([apollo.stop(), cache?.close(), encoding.close()]).catch(() => undefined);
    throw e;
  });
  const port = (httpServer.address() as AddressInfo).port;
  log.info({ port, host: config.HOST, models: registry.names }, 'listening');

  const started = performance.now();
  // Backends of every model report the same provider fallback: say it once.
  const warned = new Set<string>();
  const warn = (msg: string, fields: Record<string, unknown>) => {
    const key = `${msg}${JSON.stringify(fields)}`;
    if (!warned.has(key)) log.warn(fields, msg);
    warned.add(key);
  };
  const settings = workerSettings(config);
  const pool = { nice: config.INFERENCE_WORKER_NICE, soloThreads: soloThreads(config, settings.ORT_INTRA_OP_THREADS) };
  const ready = registry
    .loadAll({
      openBackend: (file) =>
        config.INFERENCE_WORKERS > 0
          ? WorkerPoolBackend.open(file, settings, config.INFERENCE_WORKERS, warn, pool)
          : OnnxBackend.open(file, config, warn),
      variantOf: variantOf(config),
      padding: { maxBatchTokens: config.BATCH_MAX_TOKENS, maxPaddingRatio: config.BATCH_MAX_PADDING_RATIO },
      log: (level, msg, fields) => log[level](fields, msg),
    })
    .then(() => {
      telemetry.watchModels(registry.list());
      log.info({ ms: Math.round(performance.now() - started) }, 'ready');
    });

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      // Not ready at once (load balancers stop sending work); new requests get 503 SHUTTING_DOWN while
      // the listener stays open, so that nothing a client already sent is reset. Requests in progress
      // and their queued batches finish; then the sockets close.
      health.startDraining();
      log.info({ graceMs: config.SHUTDOWN_GRACE_MS, inFlight: requests.inFlight }, 'draining');
      const drained = await requests.idle(config.SHUTDOWN_GRACE_MS);
      if (!drained) log.warn({ inFlight: requests.inFlight }, 'grace period over; closing requests still in progress');
      // Closes the listener and the sockets; the drain plugin ends any still open after its grace period.
      await apollo.stop();
      await ready.catch(() => undefined);
      await Promise.all([registry.close(), cache?.close(), encoding.close()]);
      log.info('stopped');
    })());

  return { port, url: `http://127.0.0.1:${port}/graphql`, ready, health, batcher, shutdown };
}
