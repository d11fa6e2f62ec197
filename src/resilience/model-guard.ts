// Per-model circuit breaker (cockatiel). A model call that fails or outlives its timeout (the
// runner times calls from when a worker starts them, so time spent queued never counts) counts
// against the model; after enough failures in the window the breaker opens and calls fail at once
// (so the fallback answers fast), half-opens after a cool-down to let one call test the model, and
// closes again when that call succeeds.
import { BrokenCircuitError, CircuitState, CountBreaker, circuitBreaker, handleAll, type CircuitBreakerPolicy } from 'cockatiel';
import { CallTimeoutError } from '../inference/runner.js';
import type { CallGuard } from '../scheduler/model-scheduler.js';

export type BreakerStateName = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

export interface GuardOptions {
  /** Share of failed calls in the window that opens the breaker (0-1). */
  failureRatio: number;
  /** Calls in the sliding window. */
  window: number;
  /** Calls needed in the window before the breaker may open. */
  minimumCalls: number;
  /** How long the breaker stays open before letting a test call through. */
  halfOpenAfterMs: number;
}

/** Why a model call did not produce an answer; the fallback chain handles all of these. */
export class ModelCallError extends Error {
  override name = 'ModelCallError';
  constructor(
    readonly model: string,
    readonly reason: 'open' | 'timeout' | 'failed',
    detail: string,
  ) {
    super(`model ${model} ${reason === 'open' ? 'is unavailable (circuit open)' : reason === 'timeout' ? 'timed out' : 'failed'}: ${detail}`);
  }
}

const STATE_NAMES: Record<CircuitState, BreakerStateName> = {
  [CircuitState.Closed]: 'CLOSED',
  [CircuitState.Open]: 'OPEN',
  [CircuitState.HalfOpen]: 'HALF_OPEN',
  [CircuitState.Isolated]: 'OPEN',
};

export class ModelGuard implements CallGuard {
  private readonly breaker: CircuitBreakerPolicy;
  private openedAt = 0;

  constructor(
    readonly model: string,
    private readonly options: GuardOptions,
    onState?: (model: string, state: BreakerStateName) => void,
  ) {
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new CountBreaker({ threshold: options.failureRatio, size: options.window, minimumNumberOfCalls: options.minimumCalls }),
    });
    this.breaker.onStateChange((s) => {
      if (s === CircuitState.Open) this.openedAt = Date.now();
      onState?.(model, STATE_NAMES[s]);
    });
  }

  /**
   * cockatiel moves from open to half-open only when a call is attempted; report it as half-open as
   * soon as the cool-down is over, so that callers let the test call through and health tells the truth.
   */
  get state(): BreakerStateName {
    const state = this.breaker.state;
    if (state === CircuitState.Open && Date.now() - this.openedAt >= this.options.halfOpenAfterMs) return 'HALF_OPEN';
    return STATE_NAMES[state];
  }

  /** Runs one model call under the breaker; failures become ModelCallError. */
  async execute<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.breaker.execute(() => call());
    } catch (e) {
      if (e instanceof BrokenCircuitError) throw new ModelCallError(this.model, 'open', 'recent calls failed');
      if (e instanceof CallTimeoutError) throw new ModelCallError(this.model, 'timeout', e.message);
      throw new ModelCallError(this.model, 'failed', (e as Error)?.message ?? String(e));
    }
  }
}
