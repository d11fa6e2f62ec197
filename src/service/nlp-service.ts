// What the API can do, independent of GraphQL: checks inputs, picks the model (the registry resolves
// the request's model to a choice of versions; each text gets its version: pinned, serving or canary),
// and hands the texts to the inference path. The texts of one turn of the event loop, from every request, are coalesced
// per model (DataLoader) so that the path looks them up, tokenizes them and queues them together.
import DataLoader from 'dataloader';
import type { Config } from '../config/config.js';
import { BadInputError, ForbiddenError } from '../errors/errors.js';
import type { Model } from '../inference/model.js';
import type { Task } from '../inference/model-spec.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import { InFlight } from '../resilience/in-flight.js';
import type { InferencePath, PathAnswer, TextRequest } from '../resilience/inference-path.js';
import type { RequestUsage } from '../schema/context.js';
import type { AbortState } from '../scheduler/model-scheduler.js';

export interface ModelRef {
  name: string;
  version: string;
}

export interface LabelScore {
  label: string;
  score: number;
}

interface ResultMeta {
  model: ModelRef;
  tokens: number;
  truncated: boolean;
  cached: boolean;
  fallback: boolean;
}

export interface ClassificationResult extends ResultMeta {
  label: string;
  score: number;
  scores: LabelScore[];
}

export interface EmbeddingResult extends ResultMeta {
  values: Float32Array;
  dimensions: number;
}

export interface RequestOptions {
  model?: string | null;
  truncate?: boolean | null;
  /** Fair-share identity of the client (API key id or address). */
  client: string;
  /** Aborted when the client goes away: work not yet started for it is dropped. */
  signal?: AbortState;
  /** Counts what the request cost (texts, tokens), for limits. */
  usage?: RequestUsage;
  /** Whether the caller may use a model (its API key's scopes); absent: any model. */
  allowsModel?: (model: string) => boolean;
}

export interface EmbedOptions extends RequestOptions {
  normalize?: boolean | null;
}

export type ServiceLimits = Pick<Config, 'MAX_TEXT_CHARS' | 'MAX_BATCH_TEXTS'>;

export class NlpService {
  /** One coalescing loader per model (per loaded model object, so a reloaded model gets its own). */
  private readonly loaders = new WeakMap<Model, DataLoader<TextRequest, PathAnswer>>();
  /** Texts handed to each version's loader and not answered yet (a retiring version waits for them). */
  private readonly pending = new InFlight<Model>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly path: InferencePath,
    private readonly limits: ServiceLimits,
    /** Captures what telemetry follows of the calling request (its trace span), carried with its texts. */
    private readonly tagRequest: () => unknown = () => undefined,
  ) {}

  async classify(texts: readonly string[], options: RequestOptions, single = false): Promise<ClassificationResult[]> {
    const answers = await this.run('classification', texts, options, single);
    return answers.map((a) => {
      if (a.result.kind !== 'classification') throw new Error(`model ${a.model.name} gave a ${a.result.kind} result`);
      const top = a.result.scores[0]!;
      return { label: top.label, score: top.score, scores: a.result.scores, ...meta(a) };
    });
  }

  async embed(texts: readonly string[], options: EmbedOptions, single = false): Promise<EmbeddingResult[]> {
    const answers = await this.run('embedding', texts, options, single);
    return answers.map((a) => {
      if (a.result.kind !== 'embedding') throw new Error(`model ${a.model.name} gave a ${a.result.kind} result`);
      // Not asked: as the model itself answers (sentence-transformers' Normalize module; true otherwise).
      const normalize = options.normalize ?? (a.model.spec.task === 'embedding' ? a.model.spec.normalize : true);
      const vector = a.result.vector;
      return { values: normalize ? scaled(vector, a.norm!) : vector, dimensions: vector.length, ...meta(a) };
    });
  }

  private async run(task: Task, texts: readonly string[], options: RequestOptions, single: boolean): Promise<PathAnswer[]> {
    this.checkTexts(texts, single);
    const choice = this.registry.resolve(options.model, task);
    if (options.allowsModel && !options.allowsModel(choice.name)) {
      throw new ForbiddenError(`this API key may not call model "${choice.name}"`, { model: choice.name });
    }
    const truncate = options.truncate ?? true;
    const { client, signal } = options;
    const tag = this.tagRequest();
    const answers = await Promise.all(
      texts.map((text, i) => {
        const model = choice.pick(text);
        return this.pending.track(model, this.loaderOf(model).load({ text, where: whereOf(single, i), truncate, client, signal, tag }));
      }),
    );
    if (options.usage) {
      options.usage.texts += answers.length;
      for (const a of answers) options.usage.tokens += a.result.tokens;
    }
    return answers;
  }

  /** Resolves once every text handed to `model` has its answer (it no longer gets new ones: see ModelReloader). */
  drained(model: Model): Promise<void> {
    return this.pending.idle(model);
  }

  private loaderOf(model: Model): DataLoader<TextRequest, PathAnswer> {
    let loader = this.loaders.get(model);
    if (!loader) {
      // Each text is answered on its own: DataLoader resolves each load with that text's promise,
      // which the load's promise adopts.
      const batch = (requests: readonly TextRequest[]) => Promise.resolve(this.path.runMany(model, requests) as unknown as PathAnswer[]);
      loader = new DataLoader<TextRequest, PathAnswer>(batch, {
        cache: false,
        maxBatchSize: Number.POSITIVE_INFINITY,
        // Every text parsed in one round of I/O, from every request, goes down the path together.
        batchScheduleFn: (run) => setImmediate(run),
      });
      this.loaders.set(model, loader);
    }
    return loader;
  }

  private checkTexts(texts: readonly string[], single: boolean): void {
    if (!single && texts.length === 0) throw new BadInputError('texts must hold at least one text');
    if (texts.length > this.limits.MAX_BATCH_TEXTS) {
      throw new BadInputError(`texts holds ${texts.length} texts; the limit is ${this.limits.MAX_BATCH_TEXTS}`, {
        limit: this.limits.MAX_BATCH_TEXTS,
      });
    }
    texts.forEach((text, i) => {
      const where = whereOf(single, i);
      if (text.trim().length === 0) throw new BadInputError(`${where} is empty`);
      if (text.length > this.limits.MAX_TEXT_CHARS) {
        throw new BadInputError(`${where} has ${text.length} characters; the limit is ${this.limits.MAX_TEXT_CHARS}`, {
          limit: this.limits.MAX_TEXT_CHARS,
        });
      }
      if (!text.isWellFormed()) throw new BadInputError(`${where} is not well-formed Unicode (unpaired surrogate)`);
    });
  }
}

function meta(a: PathAnswer): ResultMeta {
  return {
    model: { name: a.model.name, version: a.model.version },
    tokens: a.result.tokens,
    truncated: a.result.truncated,
    cached: a.cached,
    fallback: a.fallback,
  };
}

/** The vector at unit length; an all-zero vector (e.g. only unknown words) stays zero. */
function scaled(vector: Float32Array, norm: number): Float32Array {
  if (!(norm > 0)) return vector;
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

/** How error messages name a text of the request. */
function whereOf(single: boolean, i: number): string {
  return single ? 'text' : `texts[${i}]`;
}
