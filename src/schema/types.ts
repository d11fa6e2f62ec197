// GraphQL object types and enums. Field descriptions become the API documentation users see in the IDE.
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum ModelTask {
  CLASSIFICATION = 'CLASSIFICATION',
  EMBEDDING = 'EMBEDDING',
}
registerEnumType(ModelTask, { name: 'ModelTask', description: 'What a model does.' });

export enum HealthStatus {
  OK = 'OK',
  DEGRADED = 'DEGRADED',
  DOWN = 'DOWN',
}
registerEnumType(HealthStatus, {
  name: 'HealthStatus',
  description: 'OK: every model serves. DEGRADED: answers may come from fallbacks or without the shared cache. DOWN: not serving.',
});

export enum BreakerState {
  CLOSED = 'CLOSED',
  OPEN = 'OPEN',
  HALF_OPEN = 'HALF_OPEN',
}
registerEnumType(BreakerState, { name: 'BreakerState', description: "State of a model's circuit breaker." });

@ObjectType({ simpleResolvers: true, description: 'The model that produced an answer.' })
export class ModelRef {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  version!: string;
}

@ObjectType({ simpleResolvers: true, description: 'Probability of one label.' })
export class LabelScore {
  @Field(() => String)
  label!: string;

  @Field(() => Float, { description: 'Probability in [0, 1].' })
  score!: number;
}

/** What every answer says about how it was produced. */
@ObjectType({ simpleResolvers: true })
abstract class AnswerMeta {
  @Field(() => ModelRef, { description: 'The model that answered (the fallback when `fallback` is true).' })
  model!: ModelRef;

  @Field(() => Int, { description: 'Tokens the model read, special tokens included.' })
  tokens!: number;

  @Field(() => Boolean, { description: "True when the text was longer than the model's maxTokens and was cut." })
  truncated!: boolean;

  @Field(() => Boolean, { description: 'True when the answer came from the result cache.' })
  cached!: boolean;

  @Field(() => Boolean, { description: "True when the requested model could not answer and its fallback did." })
  fallback!: boolean;
}

@ObjectType({ simpleResolvers: true, description: 'A text classification.' })
export class Classification extends AnswerMeta {
  @Field(() => String, { description: 'The most probable label.' })
  label!: string;

  @Field(() => Float, { description: 'Probability of `label`.' })
  score!: number;

  @Field(() => [LabelScore], { description: 'Every label of the model, most probable first; scores sum to 1.' })
  scores!: LabelScore[];

}

@ObjectType({ simpleResolvers: true, description: 'A text embedding.' })
export class Embedding extends AnswerMeta {
  @Field(() => [Float], { description: 'The vector; unit length when normalised (the normalize argument, or the model\'s own default).' })
  values!: number[];

  @Field(() => Int)
  dimensions!: number;

}

@ObjectType({ simpleResolvers: true, description: 'A model the gateway serves.' })
export class ModelInfo {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  version!: string;

  @Field(() => ModelTask)
  task!: ModelTask;

  @Field(() => [String], { nullable: true, description: 'Labels of a classification model, in output order.' })
  labels!: string[] | null;

  @Field(() => Int, { nullable: true, description: 'Vector size of an embedding model.' })
  dimensions!: number | null;

  @Field(() => Int, { description: 'Longest input in tokens, special tokens included; longer texts are truncated.' })
  maxTokens!: number;

  @Field(() => String, { nullable: true, description: 'The model that answers when this one cannot.' })
  fallback!: string | null;

  @Field(() => Boolean, { description: 'True for the model used when a request names none.' })
  default!: boolean;
}

@ObjectType({ simpleResolvers: true, description: 'Health of one model.' })
export class ModelHealth {
  @Field(() => String)
  name!: string;

  @Field(() => Boolean, { description: 'Loaded and warmed up.' })
  ready!: boolean;

  @Field(() => BreakerState)
  breaker!: BreakerState;
}

export enum CacheTierState {
  DISABLED = 'DISABLED',
  CONNECTED = 'CONNECTED',
  DOWN = 'DOWN',
}
registerEnumType(CacheTierState, { name: 'CacheTierState', description: 'State of the shared (Redis) cache tier.' });

@ObjectType({ simpleResolvers: true, description: 'Health of the result cache.' })
export class CacheHealth {
  @Field(() => Boolean, { description: 'False when the cache is turned off (CACHE_MAX_ENTRIES=0).' })
  enabled!: boolean;

  @Field(() => Int, { description: 'Results in the in-process tier.' })
  entries!: number;

  @Field(() => Float, { description: 'Bytes the in-process tier holds.' })
  bytes!: number;

  @Field(() => CacheTierState, { description: 'DOWN: Redis is unreachable; answers still come, from the model.' })
  redis!: CacheTierState;
}

@ObjectType({ simpleResolvers: true, description: 'Health of the gateway.' })
export class Health {
  @Field(() => HealthStatus)
  status!: HealthStatus;

  @Field(() => String, { description: 'Gateway version.' })
  version!: string;

  @Field(() => Float)
  uptimeSeconds!: number;

  @Field(() => [ModelHealth])
  models!: ModelHealth[];

  @Field(() => CacheHealth)
  cache!: CacheHealth;
}
