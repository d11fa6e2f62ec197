// model.json: our optional file beside an export, for what the export cannot say (version, default,
// fallback, drift baseline) and for overriding what it says. Unknown keys are refused, so that a
// misspelt override is not silently ignored.
import { z } from 'zod';
import { baselineSchema, TASKS } from '../model-spec.js';

export const modelJsonSchema = z.strictObject({
  task: z.enum(TASKS).optional(),
  /** Default: the first 12 hex digits of the weights file's SHA-256. */
  version: z.string().min(1).optional(),
  labels: z.array(z.string().min(1)).min(2).optional(),
  maxTokens: z.number().int().min(2).optional(),
  pooling: z.enum(['mean', 'cls', 'none']).optional(),
  dimensions: z.number().int().min(1).optional(),
  normalize: z.boolean().optional(),
  fallback: z.string().min(1).optional(),
  default: z.boolean().optional(),
  baseline: baselineSchema.optional(),
  /** Weights files to load, relative to the folder, where the usual names do not fit. */
  weights: z.strictObject({ fp32: z.string().min(1).optional(), quantized: z.string().min(1).optional() }).optional(),
});
export type ModelJson = z.infer<typeof modelJsonSchema>;

export const MODEL_JSON_KEYS = Object.keys(modelJsonSchema.shape).join(', ');
