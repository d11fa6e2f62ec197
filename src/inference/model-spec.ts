// model.json: our descriptor beside the Hugging Face files of a model folder.
import { z } from 'zod';

export const TASKS = ['classification', 'embedding'] as const;
export type Task = (typeof TASKS)[number];

/** model.json `baseline`: statistics of held-out data computed when the model was built (drift detection). */
const baselineSchema = z
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
    ...common,
  }),
]);

export type ModelSpec = z.infer<typeof modelSpecSchema>;
export type ClassificationSpec = Extract<ModelSpec, { task: 'classification' }>;
export type EmbeddingSpec = Extract<ModelSpec, { task: 'embedding' }>;

/** The parts of a Hugging Face config.json the gateway reads. */
export const hfConfigSchema = z
  .object({
    model_type: z.string().optional(),
    id2label: z.record(z.string(), z.string()).optional(),
    max_position_embeddings: z.number().optional(),
  })
  .loose();
export type HfConfig = z.infer<typeof hfConfigSchema>;
