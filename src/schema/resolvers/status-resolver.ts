// models and health.
import { Ctx, Query, Resolver } from 'type-graphql';
import type { GatewayContext } from '../context.js';
import { BreakerState, CacheTierState, Health, HealthStatus, ModelInfo, ModelTask } from '../types.js';

@Resolver()
export class StatusResolver {
  @Query(() => [ModelInfo], { description: 'The models this gateway serves.' })
  models(@Ctx() ctx: GatewayContext): ModelInfo[] {
    return ctx.registry.list().map((m) => ({
      name: m.name,
      version: m.version,
      task: m.spec.task === 'classification' ? ModelTask.CLASSIFICATION : ModelTask.EMBEDDING,
      labels: m.spec.task === 'classification' ? m.spec.labels : null,
      dimensions: m.spec.task === 'embedding' ? m.spec.dimensions : null,
      maxTokens: m.spec.maxTokens,
      fallback: m.spec.fallback ?? null,
      default: ctx.registry.isDefault(m),
    }));
  }

  @Query(() => Health, { description: 'Whether the gateway and each model can serve.' })
  health(@Ctx() ctx: GatewayContext): Health {
    const r = ctx.health.report();
    return {
      ...r,
      status: HealthStatus[r.status],
      models: r.models.map((m) => ({ ...m, breaker: BreakerState[m.breaker] })),
      cache: { ...r.cache, redis: CacheTierState[r.cache.redis.toUpperCase() as keyof typeof CacheTierState] },
    };
  }
}
