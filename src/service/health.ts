// Gateway health, as /readyz and the `health` query report it.
import type { ModelRegistry } from '../inference/model-registry.js';
import type { RedisState } from '../resilience/cache/result-cache.js';
import type { BreakerStateName } from '../resilience/model-guard.js';

export type Status = 'OK' | 'DEGRADED' | 'DOWN';

export interface ModelHealthReport {
  name: string;
  ready: boolean;
  breaker: BreakerStateName;
  /** The serving version (once loaded). */
  version: string | null;
  /** Why the model's folder is not served as it is on disk (a reload failed, the folder was removed). */
  problem: string | null;
}

export interface CacheHealthReport {
  enabled: boolean;
  entries: number;
  bytes: number;
  redis: RedisState;
}

export interface HealthReport {
  status: Status;
  version: string;
  uptimeSeconds: number;
  models: ModelHealthReport[];
  cache: CacheHealthReport;
}

/** Where health reads the state of parts it does not own. */
export interface HealthSources {
  breakerOf(model: string): BreakerStateName;
  cache(): CacheHealthReport;
}

export class HealthService {
  private readonly startedAt = performance.now();
  private draining = false;
  private serving = false;

  constructor(
    private readonly registry: ModelRegistry,
    readonly version: string,
    private readonly sources: HealthSources,
  ) {}

  /** Every model is loaded, warmed up and has its scheduler: the gateway may take traffic. */
  startServing(): void {
    this.serving = true;
  }

  /** From now on the gateway is not ready: load balancers stop sending it work. */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Ready to take traffic: every model loaded and warmed up, and not shutting down. */
  get ready(): boolean {
    return this.serving && !this.draining;
  }

  report(): HealthReport {
    const models = this.registry.namesWithProblems().map((name) => ({
      name,
      ready: this.registry.isReady(name),
      breaker: this.sources.breakerOf(name),
      version: this.registry.get(name)?.version ?? null,
      problem: this.publicProblemOf(name),
    }));
    const cache = this.sources.cache();
    // DEGRADED: still answering, but some answers come from fallbacks or without the shared cache, or
    // a model serves older versions than its folder holds (a reload failed).
    const degraded = models.some((m) => m.breaker !== 'CLOSED' || m.problem !== null) || cache.redis === 'down';
    return {
      status: !this.ready ? 'DOWN' : degraded ? 'DEGRADED' : 'OK',
      version: this.version,
      uptimeSeconds: Math.round((performance.now() - this.startedAt) / 10) / 100,
      models,
      cache,
    };
  }

  /** A model's problem, as clients may read it (no server paths). */
  private publicProblemOf(name: string): string | null {
    const problem = this.registry.problemOf(name);
    return problem === undefined ? null : this.registry.publicProblem(problem);
  }
}
