// Which ONNX file of a folder to load, under the names exporters give them:
//   Optimum:               model.onnx, model_quantized.onnx (optimum-cli onnxruntime quantize) at the top
//   transformers.js:       onnx/model.onnx, onnx/model_quantized.onnx, onnx/model_int8.onnx, onnx/model_uint8.onnx
//   sentence-transformers: onnx/model.onnx, onnx/model_qint8_<isa>.onnx / model_quint8_<isa>.onnx
// model.json `weights` names the files where none of these fit.
import type { FolderFiles } from './folder-files.js';
import type { ModelJson } from './model-json.js';
import type { Reading } from './read-from.js';

export type Variant = 'fp32' | 'quantized';

const FP32 = ['onnx/model.onnx', 'model.onnx'];
const INT8 = ['model_quantized.onnx', 'model_int8.onnx', 'model_uint8.onnx'].flatMap((f) => [`onnx/${f}`, f]);
/** sentence-transformers names its int8 exports after the instruction set they were tuned for. */
const ST_INT8 = /^(onnx\/)?model_qu?int8_[a-z0-9_]+\.onnx$/;

export interface WeightsChoice extends Reading<string> {
  /** Set when the requested variant is missing and the other one is loaded. */
  substituted?: string;
}

export async function chooseWeights(files: FolderFiles, variant: Variant, override: ModelJson['weights']): Promise<WeightsChoice> {
  const onnx = [...(await files.list('onnx')), ...(await files.list(''))].filter((f) => f.endsWith('.onnx'));
  const pick = async (v: Variant): Promise<Reading<string> | undefined> => {
    const named = override?.[v];
    if (named) {
      if (!(await files.exists(named))) return files.fail(`model.json weights.${v} names ${named}, which does not exist`);
      return { value: named, from: `model.json weights.${v}` };
    }
    const usual = (v === 'fp32' ? FP32 : INT8).find((f) => onnx.includes(f));
    if (usual) return { value: usual, from: layoutOf(usual) };
    if (v === 'fp32') return undefined;
    const st = onnx.filter((f) => ST_INT8.test(f));
    if (st.length > 1) {
      return files.fail(`several int8 weights files (${st.join(', ')}): choose one in model.json, e.g. "weights": {"quantized": "${st[0]}"}`);
    }
    return st.length === 1 ? { value: st[0]!, from: 'sentence-transformers int8 name' } : undefined;
  };

  const wanted = await pick(variant);
  if (wanted) return wanted;
  const other: Variant = variant === 'fp32' ? 'quantized' : 'fp32';
  const instead = await pick(other);
  if (instead) return { ...instead, substituted: `no ${variant} weights; loading the ${other} file ${instead.value}` };
  const found = onnx.length > 0 ? ` (it has ${onnx.join(', ')}: name one in model.json, e.g. "weights": {"fp32": "${onnx[0]}"})` : '';
  return files.fail(
    `no ONNX weights: looked for onnx/model.onnx and model.onnx${found}; export the model with \`optimum-cli export onnx --model <model> <folder>\``,
  );
}

function layoutOf(file: string): string {
  return file.startsWith('onnx/') ? 'onnx/ (transformers.js, sentence-transformers layout)' : 'top of the folder (Optimum layout)';
}
