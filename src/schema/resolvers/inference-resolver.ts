// classify / classifyBatch / embed / embedBatch: argument plumbing only; the work is in NlpService.
import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { ClassificationResult, EmbeddingResult } from '../../service/nlp-service.js';
import type { GatewayContext } from '../context.js';
import { Classification, Embedding } from '../types.js';

const MODEL_ARG = { nullable: true, description: 'Model name; the default model of the task when omitted.' } as const;
const TRUNCATE_ARG = {
  nullable: true,
  defaultValue: true,
  description: "Cut texts longer than the model's maxTokens (true) or refuse them with BAD_USER_INPUT (false).",
} as const;
const NORMALIZE_ARG = {
  nullable: true,
  description:
    "Scale the vector to unit length. Omitted: as the model does (a sentence-transformers model normalises when its modules.json has a Normalize module; other models do).",
} as const;

@Resolver()
export class InferenceResolver {
  @Query(() => Classification, { description: 'Classifies one text.' })
  async classify(
    @Arg('text', () => String) text: string,
    @Arg('model', () => String, MODEL_ARG) model: string | null,
    @Arg('truncate', () => Boolean, TRUNCATE_ARG) truncate: boolean | null,
    @Ctx() ctx: GatewayContext,
  ): Promise<ClassificationResult> {
    const [result] = await ctx.nlp.classify([text], { model, truncate, client: ctx.client, signal: ctx.signal, usage: ctx.usage, allowsModel: ctx.key?.allows }, true);
    return result!;
  }

  @Query(() => [Classification], { description: 'Classifies several texts; answers come in the order of `texts`.' })
  classifyBatch(
    @Arg('texts', () => [String]) texts: string[],
    @Arg('model', () => String, MODEL_ARG) model: string | null,
    @Arg('truncate', () => Boolean, TRUNCATE_ARG) truncate: boolean | null,
    @Ctx() ctx: GatewayContext,
  ): Promise<ClassificationResult[]> {
    return ctx.nlp.classify(texts, { model, truncate, client: ctx.client, signal: ctx.signal, usage: ctx.usage, allowsModel: ctx.key?.allows });
  }

  @Query(() => Embedding, { description: 'Embeds one text.' })
  async embed(
    @Arg('text', () => String) text: string,
    @Arg('model', () => String, MODEL_ARG) model: string | null,
    @Arg('normalize', () => Boolean, NORMALIZE_ARG) normalize: boolean | null,
    @Arg('truncate', () => Boolean, TRUNCATE_ARG) truncate: boolean | null,
    @Ctx() ctx: GatewayContext,
  ): Promise<Embedding> {
    const [result] = await ctx.nlp.embed([text], { model, normalize, truncate, client: ctx.client, signal: ctx.signal, usage: ctx.usage, allowsModel: ctx.key?.allows }, true);
    return toEmbedding(result!);
  }

  @Query(() => [Embedding], { description: 'Embeds several texts; answers come in the order of `texts`.' })
  async embedBatch(
    @Arg('texts', () => [String]) texts: string[],
    @Arg('model', () => String, MODEL_ARG) model: string | null,
    @Arg('normalize', () => Boolean, NORMALIZE_ARG) normalize: boolean | null,
    @Arg('truncate', () => Boolean, TRUNCATE_ARG) truncate: boolean | null,
    @Ctx() ctx: GatewayContext,
  ): Promise<Embedding[]> {
    const results = await ctx.nlp.embed(texts, { model, normalize, truncate, client: ctx.client, signal: ctx.signal, usage: ctx.usage, allowsModel: ctx.key?.allows });
    return results.map(toEmbedding);
  }
}

function toEmbedding(r: EmbeddingResult): Embedding {
  return { ...r, values: Array.from(r.values) };
}
