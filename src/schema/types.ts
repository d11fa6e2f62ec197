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
  description:
    'OK: every model serves. DEGRADED: answers may come from fallbacks or without the shared cache, or a model serves older versions than its folder holds (see `models.problem`). DOWN: not serving.',
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

export enum ModelVersionState {
  SERVING = 'SERVING',
  CANARY = 'CANARY',
  SHADOW = 'SHADOW',
  STANDBY = 'STANDBY',
  LOADING = 'LOADING',
  FAILED = 'FAILED',
  DRAINING = 'DRAINING',
  RETIRED = 'RETIRED',
}
registerEnumType(ModelVersionState, {
  name: 'ModelVersionState',
  description: 'What a version of a model is doing.',
  valuesConfig: {
    SERVING: { description: 'Answers requests that name the model without a version (less the canary\'s share).' },
    CANARY: { description: 'Answers its `share` of the texts of requests that name the model without a version.' },
    SHADOW: { description: 'Also computes a sample of the serving version\'s texts, to compare; its answers are not returned.' },
    STANDBY: { description: 'Loaded; answers only requests that pin it (`name@version`).' },
    LOADING: { description: 'Being loaded and warmed up by a reload; not answering yet.' },
    FAILED: { description: 'Its folder could not be loaded (`problem` says why); the other versions serve as before.' },
    DRAINING: { description: 'Taken out of service by a reload: answers what it already took on, nothing new.' },
    RETIRED: { description: 'Taken out of service and closed.' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'One version of a model.' })
export class ModelVersion {
  @Field(() => String, { description: 'Pin it with `model: "name@version"`.' })
  version!: string;

  @Field(() => ModelVersionState)
  state!: ModelVersionState;

  @Field(() => Float, { description: 'Share of the texts of requests naming the model without a version that this version answers (0 to 1).' })
  share!: number;

  @Field(() => Float, { description: "SHADOW: share of the serving version's texts it also computes (0 to 1); 0 otherwise." })
  shadowSample!: number;

  @Field(() => String, { description: 'When it entered its state (ISO 8601).' })
  since!: string;

  @Field(() => String, { nullable: true, description: 'FAILED: why its folder cannot be served.' })
  problem!: string | null;

  @Field(() => String, { nullable: true, description: 'The weights file it runs (loaded versions).' })
  weights!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'A model the gateway serves. Its fields describe its serving version; `versions` lists them all.' })
export class ModelInfo {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The serving version: what requests naming the model without a version get (but for a canary\'s share).' })
  version!: string;

  @Field(() => [ModelVersion], { description: 'Every version: serving, canary, shadow, standby, and those loading, failed, draining or retired lately.' })
  versions!: ModelVersion[];

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

  @Field(() => String, { nullable: true, description: 'The serving version (null while loading).' })
  version!: string | null;

  @Field(() => String, { nullable: true, description: 'Why the model does not serve its folder as it is (a reload failed, the folder was removed); it still serves its older versions.' })
  problem!: string | null;
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
