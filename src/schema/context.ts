// What every resolver gets: the services, never the models or sessions themselves.
import type { KeyIdentity } from '../access/api-keys.js';
import type { OperationCost } from '../errors/errors.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import type { HealthService } from '../service/health.js';
import type { NlpService } from '../service/nlp-service.js';
import type { AbortState } from '../scheduler/model-scheduler.js';

/**
 * Model work a request caused, counted by the service as texts are answered (limits price it): the
 * texts answered (cached ones included) and the tokens the models read for them (a cached answer
 * counts the tokens it was computed from).
 */
export type RequestUsage = OperationCost;

export interface GatewayContext {
  nlp: NlpService;
  registry: ModelRegistry;
  health: HealthService;
  /** X-Request-Id of the request (the client's, when it sent a valid one). */
  requestId: string;
  /** Who is asking (`key:<id>`, or `addr:<ip>` when anonymous): the unit of fair shares and limits. */
  client: string;
  /** The caller's API key (its id, model scopes, rate) when keys are on; never the key itself. */
  key?: KeyIdentity;
  usage: RequestUsage;
  /** Aborted when the HTTP client goes away before its answer is sent. */
  signal: AbortState;
}
