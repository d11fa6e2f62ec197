// What stands between clients and the models, built from the configuration: API keys, the CORS
// policy, /metrics tokens, document limits, the per-operation budget and rate limits. The HTTP layer
// and Apollo (through the admission plugin) apply them; docs/security.md describes them for users.
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { ApiKeys, unknownModels } from '../access/api-keys.js';
import { DigestSet } from '../access/credentials.js';
import type { Config } from '../config/config.js';
import type { Model } from '../inference/model.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import { admissionPlugin } from '../limits/admission-plugin.js';
import { DocumentGuard } from '../limits/document-guard.js';
import type { ModelLookup } from '../limits/operation-cost.js';
import { RateLimiter } from '../limits/rate-limiter.js';
import type { GatewayContext } from '../schema/context.js';
import type { Logger } from '../telemetry/logger.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { Cors } from './cors.js';
import type { BodyLimits } from './request-body.js';

export interface Protection {
  keys: ApiKeys | undefined;
  cors: Cors;
  metricsTokens: DigestSet<true> | undefined;
  body: BodyLimits;
  guard: DocumentGuard;
  limiter: RateLimiter | undefined;
  admission: ApolloServerPlugin<GatewayContext>;
  close(): void;
}

/** The model an operation field would use, as the cost estimate needs it (of its versions, the largest). */
function modelLookup(registry: ModelRegistry): ModelLookup {
  const bound = (m: Model) => ({ name: m.name, maxTokens: m.spec.maxTokens, specialTokens: m.encoder.specialTokens });
  const largest = (models: readonly Model[]) => models.reduce<Model | undefined>((a, m) => (!a || m.spec.maxTokens > a.spec.maxTokens ? m : a), undefined);
  return (name, task) => {
    try {
      return bound(largest(registry.resolve(name, task).models)!);
    } catch {
      return undefined; // unknown model or wrong task: the operation fails without model work
    }
  };
}

export function createProtection(config: Config, schema: GraphQLSchema, registry: ModelRegistry, metrics: GatewayMetrics, log: Logger): Protection {
  if (config.apiKeys) {
    const unknown = unknownModels(config.apiKeys, registry.names);
    if (unknown.length > 0) throw new Error(`API_KEYS_FILE / API_KEYS: keys name models the repository does not have (key: model): ${unknown.join(', ')}`);
  }
  const limited = config.RATE_LIMIT_TOKENS_PER_SECOND > 0 || (config.apiKeys ?? []).some((k) => (k.tokensPerSecond ?? 0) > 0);
  const limiter = limited
    ? new RateLimiter({
        defaults: { tokensPerSecond: config.RATE_LIMIT_TOKENS_PER_SECOND, burstTokens: config.RATE_LIMIT_BURST_TOKENS },
        minTokens: config.RATE_LIMIT_MIN_TOKENS,
        redisUrl: config.REDIS_URL,
        redisTimeoutMs: config.REDIS_TIMEOUT_MS,
        onRedisState: (state, reason) => {
          if (state === 'down') log.warn({ redis: state, reason }, 'shared rate-limit buckets unavailable; each replica limits on its own');
          else log.info({ redis: state }, 'shared rate-limit buckets state');
        },
        onRedisErrorReply: (reason) => log.warn({ reason }, 'redis answered a rate-limit take with an error; this replica limits on its own'),
        onDecision: metrics.observeRateLimit,
      })
    : undefined;
  if (limiter && config.REDIS_URL) metrics.watchRateLimitRedis(() => (limiter.redisState === 'connected' ? 1 : 0));
  const budget = { texts: config.MAX_OPERATION_TEXTS, tokens: config.MAX_OPERATION_TOKENS };
  return {
    keys: config.apiKeys ? new ApiKeys(config.apiKeys) : undefined,
    cors: new Cors(config.CORS_ORIGINS, config.CORS_MAX_AGE_SECONDS),
    metricsTokens: config.METRICS_TOKEN_SHA256.length > 0 ? new DigestSet(config.METRICS_TOKEN_SHA256.map((sha256) => ({ sha256, value: true as const }))) : undefined,
    body: { maxBytes: config.MAX_BODY_BYTES, maxDepth: config.MAX_JSON_DEPTH, maxValues: config.MAX_JSON_VALUES },
    guard: new DocumentGuard(schema, {
      maxChars: config.GRAPHQL_MAX_QUERY_CHARS,
      maxTokens: config.GRAPHQL_MAX_TOKENS,
      maxAliases: config.GRAPHQL_MAX_ALIASES,
      maxDepth: config.GRAPHQL_MAX_DEPTH,
      maxDirectives: config.GRAPHQL_MAX_DIRECTIVES,
      maxCost: config.GRAPHQL_MAX_COST,
      maxFieldRepeats: config.GRAPHQL_MAX_FIELD_REPEATS,
    }),
    limiter,
    admission: admissionPlugin({
      budget,
      lookup: modelLookup(registry),
      limiter,
      onOverBudget: (usage) => log.warn({ usage, budget }, 'an operation used more than its budget: the cost estimate missed part of it'),
    }),
    close: () => limiter?.close(),
  };
}
