// What the API can do, independent of GraphQL: checks inputs, picks the model, and sends every text
// down the inference path (cache, batcher, breaker, fallback). Resolvers are thin wrappers around this.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Config } from '../config/config.js';
import { BadInputError, ForbiddenError } from '../errors/errors.js';
import { EmbeddingModel, type LabelScore } from '../inference/model.js';
import type { Task } from '../inference/model-spec.js';
import type { ModelRegistry } from '../inference/model-registry.js';
import type { InferencePath, PathAnswer, TaskModel } from '../resilience/inference-path.js';
import type { RequestUsage } from '../schema/context.js';

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
  /** Counts what the request cost (texts, tokens), for limits. */
  usage?: RequestUsage;
  /** Whether the caller may use a model (its API key's scopes); absent: any model. */
  allowsModel?: (model: string) => boolean;
}

export interface EmbedOptions extends RequestOptions {
  normalize?: boolean | null;
}

export type ServiceLimits = Pick<Config, 'MAX_TEXT_CHARS' | 'MAX_BATCH_TEXTS'>;

/** Characters of texts started in one turn of the event loop (about 5 ms of work). */
const START_SLICE_CHARS = 1024 * 1024;

export class NlpService {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly path: InferencePath,
    private readonly limits: ServiceLimits,
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
    const normalize = options.normalize ?? true;
    return answers.map((a) => {
      if (a.result.kind !== 'embedding') throw new Error(`model ${a.model.name} gave a ${a.result.kind} result`);
      return {
        values: EmbeddingModel.finish(a.result.vector, normalize),
        dimensions: a.result.vector.length,
        ...meta(a),
      };
    });
  }

  private async run(task: Task, texts: readonly string[], options: RequestOptions, single: boolean): Promise<PathAnswer[]> {
    this.checkTexts(texts, single);
    const model = this.registry.resolve(options.model, task) as TaskModel;
    if (options.allowsModel && !options.allowsModel(model.name)) {
      throw new ForbiddenError(`this API key may not call model "${model.name}"`, { model: model.name });
    }
    const truncate = options.truncate ?? true;
    // Starting a text (its cache key, the hand-off to a tokenizer thread) runs on the event loop: a
    // batch of long texts is started in slices, each in a turn of its own, so that no request holds
    // the loop for long (an 8 MiB batch did for over 100 ms).
    const started: Promise<PathAnswer>[] = [];
    let chars = 0;
    for (const [i, text] of texts.entries()) {
      if (chars > START_SLICE_CHARS) {
        chars = 0;
        for (const p of started) p.catch(() => {}); // their rejections are Promise.all's, below
        await nextTurn();
      }
      chars += text.length;
      started.push(this.path.run(model, { text, where: whereOf(single, i), truncate, signal: options.signal }));
    }
    const answers = await Promise.all(started);
    if (options.usage) {
      options.usage.texts += answers.length;
      for (const a of answers) options.usage.tokens += a.result.tokens;
    }
    return answers;
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

/** How error messages name a text of the request. */
function whereOf(single: boolean, i: number): string {
  return single ? 'text' : `texts[${i}]`;
}
