// Gateway health, as /readyz and the `health` query report it.
import type { ModelRegistry } from '../inference/model-registry.js';

export type Status = 'OK' | 'DEGRADED' | 'DOWN';

export interface ModelHealthReport {
  name: string;
  ready: boolean;
  breaker: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
}

export interface HealthReport {
  status: Status;
  version: string;
  uptimeSeconds: number;
  models: ModelHealthReport[];
}

export class HealthService {
  private readonly startedAt = performance.now();
  private draining = false;

  constructor(
    private readonly registry: ModelRegistry,
    readonly version: string,
  ) {}

  /** From now on the gateway is not ready: load balancers stop sending it work. */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Ready to take traffic: every model loaded and warmed up, and not shutting down. */
  get ready(): boolean {
    return !this.draining && this.registry.allReady;
  }

  report(): HealthReport {
    const models = this.registry.names.map((name) => ({
      name,
      ready: this.registry.isReady(name),
      breaker: 'CLOSED' as const,
    }));
    return {
      status: this.ready ? 'OK' : 'DOWN',
      version: this.version,
      uptimeSeconds: Math.round((performance.now() - this.startedAt) / 10) / 100,
      models,
    };
  }
}
