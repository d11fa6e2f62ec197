// Start-up and shutdown of one gateway: listen first (so /healthz and /readyz answer while models
// load), then load and warm every model, then report ready and start watching the model repository
// (hot reload). Shutdown drains before it exits.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.js';
import { loadFolder } from '../inference/model-loader.js';
import { ModelRegistry } from '../inference/model-registry.js';
import { layoutStamp } from '../inference/repository/layout.js';
import { openRunner } from '../inference/onnx/open-runner.js';
import { LocalEncoding } from '../inference/tokenize/text-encoding.js';
import { TokenizerPool } from '../inference/tokenize/tokenizer-pool.js';
import { ResultCache } from '../resilience/cache/result-cache.js';
import { InferencePath } from '../resilience/inference-path.js';
import { buildGatewaySchema } from '../schema/build-schema.js';
import { HealthService } from '../service/health.js';
import { ModelReloader, type ReloadReport } from '../service/model-reloader.js';
import { NlpService } from '../service/nlp-service.js';
import type { Logger } from '../telemetry/logger.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { GATEWAY_VERSION } from '../version.js';
import { createApollo } from './apollo.js';
import type { BaseContext } from './graphql-handler.js';
import { closeHttpServer } from './http-drain.js';
import { createRequestHandler } from './http-routes.js';
import { createProtection } from './protection.js';
import { RepositoryWatch } from './reload-triggers.js';
import { RequestTracker } from './request-tracker.js';

export interface Gateway {
  port: number;
  url: string;
  /** Resolves when every model is loaded and warmed up; rejects when one cannot be. */
  ready: Promise<void>;
  health: HealthService;
  path: InferencePath;
  /**
   * Reads the model repository again and swaps in what changed (SIGHUP, the watch); once models are
   * ready. Resolves with what the pass did.
   */
  reload(trigger: string): Promise<ReloadReport>;
  /**
   * Stops taking work, lets requests in flight finish, frees the models and whatever `alsoClose`
   * closes; resolves within SHUTDOWN_GRACE_MS of the call.
   */
  shutdown(alsoClose?: () => Promise<unknown>): Promise<void>;
}

/** Of the grace period, what closing models, Redis and tracing keep for themselves (they take ~50 ms). */
function cleanupReserveMs(graceMs: number): number {
  return Math.min(1_000, Math.floor(graceMs / 4));
}

/** True when `work` settles within `ms`; false when the time runs out first (the work goes on unawaited). */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    work.then(done, done);
  });
}

function createCache(config: Config, telemetry: Telemetry, log: Logger): ResultCache | undefined {
  if (config.CACHE_MAX_ENTRIES === 0) return undefined;
  const cache = new ResultCache({
    maxEntries: config.CACHE_MAX_ENTRIES,
    maxBytes: config.CACHE_MAX_BYTES,
    ttlMs: config.CACHE_TTL_MS,
    redisUrl: config.REDIS_URL,
    redisTimeoutMs: config.REDIS_TIMEOUT_MS,
    onLookup: telemetry.metrics.observeCacheLookup,
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
  const telemetry = new Telemetry(log, config.DRIFT_WINDOW);
  telemetry.metrics.initModels(registry.names);

  const cache = createCache(config, telemetry, log);
  const encoding =
    config.TOKENIZER_THREADS > 0
      ? new TokenizerPool(config.TOKENIZER_THREADS, config.INFERENCE_WORKER_NICE, (msg, fields) => log.warn(fields, msg))
      : new LocalEncoding();
  const path = new InferencePath(
    registry,
    {
      guard: {
        failureRatio: config.BREAKER_FAILURE_RATIO,
        window: config.BREAKER_WINDOW,
        minimumCalls: config.BREAKER_MIN_CALLS,
        halfOpenAfterMs: config.BREAKER_HALF_OPEN_AFTER_MS,
      },
      scheduler: {
        maxBatchSize: config.BATCH_MAX_SIZE,
        maxBatchTokens: config.BATCH_MAX_TOKENS,
        maxPaddingRatio: config.BATCH_MAX_PADDING_RATIO,
        maxQueue: config.BATCH_MAX_QUEUE,
        maxDelayMs: config.BATCH_MAX_DELAY_MS,
      },
      deadlineMs: config.INFERENCE_DEADLINE_MS,
      fairShare: config.FAIR_SHARE === 'on',
      shadow: { maxPending: config.SHADOW_MAX_QUEUE },
    },
    cache,
    encoding,
    telemetry.pathHooks,
  );
  telemetry.metrics.watchPath(path);
  const health = new HealthService(registry, GATEWAY_VERSION, {
    breakerOf: (model) => path.breakerState(model),
    cache: () => {
      if (!cache) return { enabled: false, entries: 0, bytes: 0, redis: 'disabled' };
      const state = cache.state();
      return { enabled: true, entries: state.memory.entries, bytes: state.memory.bytes, redis: state.redis };
    },
  });
  const nlp = new NlpService(registry, path, config, telemetry.requestTag);
  const context: BaseContext = { nlp, registry, health };

  const httpServer = createServer();
  const schema = await buildGatewaySchema();
  const protection = createProtection(config, schema, registry, telemetry.metrics, log);
  const apollo = createApollo({
    schema,
    log,
    plugins: [protection.admission, ...telemetry.apolloPlugins((name) => registry.names.includes(name))],
    introspection: config.GRAPHQL_INTROSPECTION,
    suggestions: config.GRAPHQL_SUGGESTIONS,
    maxTokens: config.GRAPHQL_MAX_TOKENS,
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
      ...protection,
      trustProxyHops: config.TRUST_PROXY_HOPS,
      onRefused: telemetry.onRefused,
      ide: config.GRAPHQL_IDE,
      version: GATEWAY_VERSION,
      onError: (error) => log.error({ err: error }, 'unhandled error in a route'),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', (e: NodeJS.ErrnoException) => reject(e.code ? new ListenError(e.code, config.HOST, config.PORT) : e));
    httpServer.listen(config.PORT, config.HOST, () => resolve());
  }).catch(async (e: unknown) => {
    protection.close();
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
  const loadOptions = {
    openRunner: (request: Parameters<typeof openRunner>[0]) => openRunner(request, config, { warn, onRestart: telemetry.onWorkerRestart(request.model) }),
    log: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => log[level](fields, msg),
  };
  const reloader = new ModelReloader({
    registry,
    path,
    drained: (model) => nlp.drained(model),
    load: (name, spec) => loadFolder(spec, { ...loadOptions, name, variant: variantOf(config)(name) }),
    variantOf: variantOf(config),
    hooks: telemetry.reloadHooks(registry),
  });
  const watch = new RepositoryWatch(
    { dir: config.MODELS_DIR, intervalMs: config.MODELS_WATCH_INTERVAL_MS, debounceMs: config.MODELS_RELOAD_DEBOUNCE_MS, loadedStamp: layoutStamp(registry.layout) },
    (trigger) => reloader.reload(trigger),
  );
  const ready = registry
    .loadAll({ ...loadOptions, variantOf: variantOf(config) })
    .then(async () => {
      for (const model of registry.loaded()) {
        const calibration = await path.add(model);
        log.info({ model: model.name, version: model.version, ...model.runner.shape, ...calibration }, 'model calibrated');
      }
      telemetry.watchModels(registry);
      health.startServing();
      watch.start();
      log.info({ ms: Math.round(performance.now() - started) }, 'ready');
    });
  const reload = (trigger: string): Promise<ReloadReport> => ready.then(() => reloader.reload(trigger));

  let stopping: Promise<void> | undefined;
  const shutdown = (alsoClose?: () => Promise<unknown>) =>
    (stopping ??= (async () => {
      // The whole shutdown fits in SHUTDOWN_GRACE_MS. Not ready at once (load balancers stop sending
      // work); new requests get 503 SHUTTING_DOWN with Connection: close while the listener stays
      // open, so that nothing a client already sent is reset; idle keep-alive connections close now,
      // busy ones after their response. Requests in progress and their queued batches finish within
      // the grace period less a reserve for closing models, Redis and the trace exporter.
      const started = performance.now();
      const deadline = started + config.SHUTDOWN_GRACE_MS;
      const requestsDeadline = deadline - cleanupReserveMs(config.SHUTDOWN_GRACE_MS);
      health.startDraining();
      requests.closeConnectionsAfterResponse();
      httpServer.closeIdleConnections();
      log.info({ graceMs: config.SHUTDOWN_GRACE_MS, inFlight: requests.inFlight }, 'draining');
      const drained = await requests.idle(requestsDeadline - performance.now());
      if (!drained) log.warn({ inFlight: requests.inFlight }, 'grace period over; closing requests still in progress');
      await closeHttpServer(httpServer, drained ? requestsDeadline : performance.now());

      const cleanup = (async () => {
        await apollo.stop();
        await ready.catch(() => undefined);
        // Texts not started fail now; calls in progress finish before their threads stop (a
        // draining version's too: the reloader closes it once its calls return).
        watch.stop();
        protection.close();
        path.close();
        await reloader.close();
        await Promise.all([registry.close(), cache?.close(), encoding.close(), alsoClose?.()]);
      })();
      const clean = await settlesWithin(cleanup, deadline - performance.now());
      if (!clean) {
        // The one thing worth overrunning the grace for: a model call still in progress. Exiting while
        // onnxruntime runs on a worker thread aborts the process (see worker-pool.ts), so wait for the
        // calls to return (each is bounded by MODEL_TIMEOUT_MS); the orchestrator's own deadline
        // remains the backstop for a call that never returns.
        log.warn('grace period over while closing models, cache or tracing; waiting for model calls in progress');
        await cleanup;
      }
      // cut: requests whose connection closed before their answer (the grace ran out, or the client left).
      log.info({ ms: Math.round(performance.now() - started), drained, cut: requests.cutWhileClosing, clean }, 'stopped');
    })());

  return { port, url: `http://127.0.0.1:${port}/graphql`, ready, health, path, reload, shutdown };
}
