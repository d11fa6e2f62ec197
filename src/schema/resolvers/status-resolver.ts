// models and health.
import { Ctx, Query, Resolver } from 'type-graphql';
import type { GatewayContext } from '../context.js';
import { BreakerState, CacheTierState, Health, HealthStatus, ModelInfo, ModelTask, ModelVersionState } from '../types.js';

@Resolver()
export class StatusResolver {
  @Query(() => [ModelInfo], { description: 'The models this gateway serves, each with every version and its state.' })
  models(@Ctx() ctx: GatewayContext): ModelInfo[] {
    return ctx.registry.list().map((m) => ({
      name: m.name,
      version: m.version,
      versions: ctx.registry.versionsOf(m.name).map((v) => ({
        version: v.version,
        state: ModelVersionState[v.state],
        share: v.share,
        shadowSample: v.sample,
        since: new Date(v.since).toISOString(),
        problem: v.problem === undefined ? null : ctx.registry.publicProblem(v.problem),
        weights: v.model?.file ?? null,
      })),
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
