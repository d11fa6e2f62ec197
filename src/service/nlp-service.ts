// What the API can do, independent of GraphQL: checks inputs, picks the model, encodes texts and
// sends them through the shared batcher. Resolvers are thin wrappers around this.
import type { Batcher, LaneSpec } from '../batching/batcher.js';
import type { Config } from '../config/config.js';
import { BadInputError } from '../errors/errors.js';
import { ClassificationModel, EmbeddingModel, type ClassifyOutput, type EmbedOutput, type LabelScore } from '../inference/model.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import type { EncodedText } from '../inference/text-encoder.js';

export interface ModelRef {
  name: string;
  version: string;
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
  /** Aborted when the client goes away: work not yet started for it is dropped. */
  signal?: AbortSignal;
}

export interface EmbedOptions extends RequestOptions {
  normalize?: boolean | null;
}

export type ServiceLimits = Pick<Config, 'MAX_TEXT_CHARS' | 'MAX_BATCH_TEXTS'>;

/** Identical token ids give identical outputs, so they identify an item for de-duplication. */
const idsKey = (t: EncodedText) => t.ids.join(',');

export class NlpService {
  private readonly lanes = new Map<string, LaneSpec<EncodedText, unknown>>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly batcher: Batcher,
    private readonly limits: ServiceLimits,
  ) {}

  private laneOf<V>(model: ClassificationModel | EmbeddingModel, run: (batch: readonly EncodedText[]) => Promise<V[]>): LaneSpec<EncodedText, V> {
    let spec = this.lanes.get(model.name) as LaneSpec<EncodedText, V> | undefined;
    if (!spec) {
      spec = { fn: run, keyOf: idsKey, capacity: model.capacity };
      this.lanes.set(model.name, spec as LaneSpec<EncodedText, unknown>);
    }
    return spec;
  }

  async classify(texts: readonly string[], options: RequestOptions, single = false): Promise<ClassificationResult[]> {
    this.checkTexts(texts, single);
    const model = this.registry.resolve(options.model, 'classification') as ClassificationModel;
    const encoded = this.encodeAll(model, texts, options.truncate ?? true, single);
    const lane = this.laneOf<ClassifyOutput>(model, (batch) => model.classify(batch));
    const outputs = await this.batcher.loadMany(model.name, lane, encoded, options.signal);
    return outputs.map((out, i) => ({
      label: out.scores[0]!.label,
      score: out.scores[0]!.score,
      scores: out.scores,
      ...meta(model, encoded[i]!),
    }));
  }

  async embed(texts: readonly string[], options: EmbedOptions, single = false): Promise<EmbeddingResult[]> {
    this.checkTexts(texts, single);
    const model = this.registry.resolve(options.model, 'embedding') as EmbeddingModel;
    const encoded = this.encodeAll(model, texts, options.truncate ?? true, single);
    // Normalisation happens after batching, so normalised and raw requests share one lane.
    const lane = this.laneOf<EmbedOutput>(model, (batch) => model.embed(batch));
    const outputs = await this.batcher.loadMany(model.name, lane, encoded, options.signal);
    const normalize = options.normalize ?? true;
    return outputs.map((out, i) => ({
      values: EmbeddingModel.finish(out.vector, normalize),
      dimensions: model.spec.dimensions,
      ...meta(model, encoded[i]!),
    }));
  }

  private checkTexts(texts: readonly string[], single: boolean): void {
    if (!single && texts.length === 0) throw new BadInputError('texts must hold at least one text');
    if (texts.length > this.limits.MAX_BATCH_TEXTS) {
      throw new BadInputError(`texts holds ${texts.length} texts; the limit is ${this.limits.MAX_BATCH_TEXTS}`, {
        limit: this.limits.MAX_BATCH_TEXTS,
      });
    }
    texts.forEach((text, i) => {
      const where = single ? 'text' : `texts[${i}]`;
      if (text.trim().length === 0) throw new BadInputError(`${where} is empty`);
      if (text.length > this.limits.MAX_TEXT_CHARS) {
        throw new BadInputError(`${where} has ${text.length} characters; the limit is ${this.limits.MAX_TEXT_CHARS}`, {
          limit: this.limits.MAX_TEXT_CHARS,
        });
      }
      if (!text.isWellFormed()) throw new BadInputError(`${where} is not well-formed Unicode (unpaired surrogate)`);
    });
  }

  private encodeAll(
    model: ClassificationModel | EmbeddingModel,
    texts: readonly string[],
    truncate: boolean,
    single: boolean,
  ): EncodedText[] {
    return texts.map((text, i) => {
      const encoded = model.encoder.encode(text, !truncate);
      if (encoded.truncated && !truncate) {
        const where = single ? 'text' : `texts[${i}]`;
        throw new BadInputError(
          `${where} has ${encoded.fullLength} tokens; model "${model.name}" takes at most ${model.spec.maxTokens} (pass truncate: true to cut it)`,
          { tokens: encoded.fullLength, limit: model.spec.maxTokens },
        );
      }
      return encoded;
    });
  }
}

function meta(model: ClassificationModel | EmbeddingModel, encoded: EncodedText): ResultMeta {
  return {
    model: { name: model.name, version: model.version },
    tokens: encoded.ids.length,
    truncated: encoded.truncated,
    cached: false,
    fallback: false,
  };
}
