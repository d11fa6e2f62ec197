// The parts of the Hugging Face and sentence-transformers files of an export that the gateway reads.
// Loose objects: everything else in those files is the exporter's business.
import { z } from 'zod';

/** config.json (transformers). */
export const hfConfigSchema = z
  .object({
    model_type: z.string().optional(),
    architectures: z.array(z.string()).optional(),
    id2label: z.record(z.string(), z.string()).optional(),
    label2id: z.record(z.string(), z.number()).optional(),
    max_position_embeddings: z.number().optional(),
    pad_token_id: z.number().nullable().optional(),
    problem_type: z.string().nullable().optional(),
  })
  .loose();
export type HfConfig = z.infer<typeof hfConfigSchema>;

/** tokenizer_config.json (transformers). */
export const tokenizerConfigSchema = z
  .object({
    // Often 1e30 (transformers' "no limit"), which JSON readers see as a float.
    model_max_length: z.number().optional(),
    pad_token: z.unknown().optional(),
  })
  .loose();

/** modules.json (sentence-transformers): the module chain after the transformer. */
export const modulesSchema = z.array(z.object({ path: z.string(), type: z.string() }).loose());

/** 1_Pooling/config.json (sentence-transformers). */
export const poolingConfigSchema = z
  .object({
    word_embedding_dimension: z.number().optional(),
    pooling_mode_cls_token: z.boolean().optional(),
    pooling_mode_mean_tokens: z.boolean().optional(),
    pooling_mode_max_tokens: z.boolean().optional(),
    pooling_mode_mean_sqrt_len_tokens: z.boolean().optional(),
    pooling_mode_weightedmean_tokens: z.boolean().optional(),
    pooling_mode_lasttoken: z.boolean().optional(),
  })
  .loose();
export type PoolingConfig = z.infer<typeof poolingConfigSchema>;

/** sentence_bert_config.json (sentence-transformers). */
export const sentenceBertConfigSchema = z.object({ max_seq_length: z.number().int().positive().optional() }).loose();
