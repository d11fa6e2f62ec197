// What the gateway serves a model by, resolved from its folder (model-folder/: the export's own files,
// with model.json overriding): task, version, labels or pooling, limits, fallback, default, baseline.
import { z } from 'zod';

export const TASKS = ['classification', 'embedding'] as const;
export type Task = (typeof TASKS)[number];

/** model.json `baseline`: statistics of held-out data computed when the model was built (drift detection). */
export const baselineSchema = z
  .object({
    source: z.string().optional(),
    /** Token-length histogram: lower edges, ascending (bin i = [edges[i], edges[i+1]), the last open), one share per edge. */
    tokenLength: z.object({ edges: z.array(z.number()).min(2), share: z.array(z.number()) }).optional(),
    /** Mean over texts of unknown tokens / tokens. */
    unknownTokenRatio: z.number().optional(),
    /** Share of each predicted label. */
    labels: z.record(z.string(), z.number()).optional(),
    /** Mean top-label probability. */
    meanConfidence: z.number().optional(),
    /** Mean embedding norm before normalisation. */
    meanNorm: z.number().optional(),
  })
  .loose();

export type Baseline = z.infer<typeof baselineSchema>;

const common = {
  version: z.string().min(1),
  /** Longest input in tokens, special tokens included. */
  maxTokens: z.number().int().min(2),
  /** Another model of the same task that answers when this one cannot. */
  fallback: z.string().min(1).optional(),
  /** The model used when a request names none; at most one per task. */
  default: z.boolean().default(false),
  /** Statistics of held-out data at build time, for drift detection. */
  baseline: baselineSchema.optional(),
};

export const modelSpecSchema = z.discriminatedUnion('task', [
  z.object({ task: z.literal('classification'), labels: z.array(z.string().min(1)).min(2), ...common }),
  z.object({
    task: z.literal('embedding'),
    pooling: z.enum(['mean', 'cls', 'none']),
    dimensions: z.number().int().min(1),
    /** Whether answers are unit length when the request does not say (sentence-transformers' Normalize module). */
    normalize: z.boolean().default(true),
    ...common,
  }),
]);

export type ModelSpec = z.infer<typeof modelSpecSchema>;
export type ClassificationSpec = Extract<ModelSpec, { task: 'classification' }>;
export type EmbeddingSpec = Extract<ModelSpec, { task: 'embedding' }>;
