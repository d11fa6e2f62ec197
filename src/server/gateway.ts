// Start-up and shutdown of one gateway: listen first (so /healthz and /readyz answer while models
// load), then load and warm every model, then report ready. Shutdown drains before it exits.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServer } from '@apollo/server';
import { Batcher } from '../batching/batcher.js';
import type { Config } from '../config/config.js';
import { ModelRegistry } from '../inference/model-registry.js';
import { OnnxBackend } from '../inference/onnx/onnx-backend.js';
import { WorkerPoolBackend } from '../inference/onnx/worker-pool-backend.js';
import type { GatewayContext } from '../schema/context.js';
import { buildGatewaySchema } from '../schema/build-schema.js';
import { HealthService } from '../service/health.js';
import { NlpService } from '../service/nlp-service.js';
import type { Logger } from '../telemetry/logger.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { GATEWAY_VERSION } from '../version.js';
import { createApollo } from './apollo.js';
import { createApp } from './app.js';

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

export async function startGateway(config: Config, log: Logger): Promise<Gateway> {
  const registry = await ModelRegistry.discover(config.MODELS_DIR);
  const batcher = new Batcher({
    maxBatchSize: config.BATCH_MAX_SIZE,
    maxDelayMs: config.BATCH_MAX_DELAY_MS,
    maxQueue: config.BATCH_MAX_QUEUE,
  });
  const health = new HealthService(registry, GATEWAY_VERSION);
  const metrics = new GatewayMetrics(batcher);
  const context: Omit<GatewayContext, 'signal'> = {
    nlp: new NlpService(registry, batcher, config),
    registry,
    health,
  };

  const httpServer: Server = createServer();
  const apollo: ApolloServer<GatewayContext> = createApollo(await buildGatewaySchema(), httpServer, log);
  await apollo.start();
  httpServer.on('request', createApp({ apollo, context, health, metrics: metrics.registry, maxBodyBytes: config.MAX_BODY_BYTES }));
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.PORT, config.HOST, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  log.info({ port, host: config.HOST, models: registry.names }, 'listening');

  const started = performance.now();
  const ready = registry
    .loadAll({
      openBackend: (file) => {
        const warn = (msg: string, fields: Record<string, unknown>) => log.warn(fields, msg);
        return config.INFERENCE_WORKERS > 0
          ? WorkerPoolBackend.open(file, config, config.INFERENCE_WORKERS, warn)
          : OnnxBackend.open(file, config, warn);
      },
      variantOf: (name) => config.MODEL_VARIANTS[name] ?? config.ONNX_VARIANT,
      padding: { maxBatchTokens: config.BATCH_MAX_TOKENS, maxPaddingRatio: config.BATCH_MAX_PADDING_RATIO },
      log: (level, msg, fields) => log[level](fields, msg),
    })
    .then(() => {
      for (const model of registry.list()) model.onCall = metrics.observeCall;
      log.info({ ms: Math.round(performance.now() - started) }, 'ready');
    });

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      health.startDraining();
      log.info({ graceMs: config.SHUTDOWN_GRACE_MS }, 'draining');
      const grace = new Promise<void>((resolve) => setTimeout(resolve, config.SHUTDOWN_GRACE_MS).unref());
      await Promise.race([apollo.stop(), grace]);
      httpServer.closeAllConnections();
      await ready.catch(() => undefined);
      await registry.close();
      log.info('stopped');
    })());

  return { port, url: `http://127.0.0.1:${port}/graphql`, ready, health, batcher, shutdown };
}
