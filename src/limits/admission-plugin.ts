// Admission of an operation, once Apollo has parsed and validated it and before anything runs: its
// model work is estimated from the document and the variables (operation-cost.ts), then checked
// against the per-operation budget, the caller's model scopes, and the caller's token bucket. After
// it has run, the bucket is settled against what the service counted (ctx.usage), the response gets
// the operation's cost (extensions.cost) and the x-ratelimit-* headers, and any retry hint in its
// errors (RATE_LIMITED, OVERLOADED: extensions.retryAfterMs) also becomes a Retry-After header.
import type { ApolloServerPlugin } from '@apollo/server';
import { BudgetExceededError, ForbiddenError, RateLimitedError, type OperationCost } from '../errors/errors.js';
import { refusal } from '../errors/format-error.js';
import type { GatewayContext } from '../schema/context.js';
import { estimateCost, type ModelLookup } from './operation-cost.js';
import { RateLimiter, type Reservation } from './rate-limiter.js';

export interface AdmissionOptions {
  budget: OperationCost;
  lookup: ModelLookup;
  /** Undefined when rate limits are off for everyone. */
  limiter: RateLimiter | undefined;
  /** The service counted more than the estimate allowed: the estimate missed something (a bug). */
  onOverBudget: (usage: OperationCost) => void;
}

export function admissionPlugin({ budget, lookup, limiter, onOverBudget }: AdmissionOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      let reservation: Reservation | undefined;
      let admitted = false;
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) return; // Apollo answers that there is no such operation
          const cost = estimateCost(document, operation, request.variables, lookup);
          for (const limit of ['texts', 'tokens'] as const) {
            if (cost[limit] > budget[limit]) throw refusal(new BudgetExceededError(limit, budget[limit], { texts: cost.texts, tokens: cost.tokens }));
          }
          const key = contextValue.key;
          const denied = key && cost.fields.find((f) => f.model !== undefined && !key.allows(f.model));
          if (denied) throw refusal(new ForbiddenError(`this API key may not call model "${denied.model}"`, { model: denied.model }));
          const policy = limiter?.policyFor(key);
          if (limiter && policy) {
            const taken = await limiter.reserve(contextValue.client, policy, cost.tokens);
            // Retry-After comes from extensions.retryAfterMs, in willSendResponse.
            if (!taken.allowed) throw refusal(new RateLimitedError(taken.retryAfterMs), RateLimiter.headers(policy, taken.tokens));
            reservation = taken;
          }
          admitted = true;
        },

        async willSendResponse({ response }) {
          const usage = contextValue.usage;
          if (reservation) {
            const left = limiter!.settle(reservation, usage.tokens);
            for (const [name, value] of Object.entries(RateLimiter.headers(reservation.policy, left))) response.http.headers.set(name, value);
          }
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          if (admitted) {
            result.extensions = { ...result.extensions, cost: { texts: usage.texts, tokens: usage.tokens } };
            if (usage.texts > budget.texts || usage.tokens > budget.tokens) onOverBudget({ ...usage });
          }
          const retryAfterMs = Math.max(0, ...(result.errors ?? []).map((e) => Number(e.extensions?.['retryAfterMs']) || 0));
          if (retryAfterMs > 0) response.http.headers.set('retry-after', String(Math.ceil(retryAfterMs / 1000)));
        },
      };
    },
  };
}
