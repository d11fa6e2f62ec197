// A few helpers to write small ONNX graphs with the onnx-proto protobuf bindings.
// Everything is plain data: the same inputs always serialise to the same bytes (no timestamps, no
// random names).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');

export const DataType = onnx.TensorProto.DataType; // FLOAT = 1, INT64 = 7, FLOAT16 = 10, ...
const AttrType = onnx.AttributeProto.AttributeType;

export const IR_VERSION = 8;
export const OPSET = 17;

/** Round a float32 value to IEEE 754 binary16 (round to nearest, ties to even); returns the bits. */
export function float16Bits(value) {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit bit, round to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  const rest = mant & 0x1fff;
  let h = (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // may carry into the exponent: still correct
  return sign | h;
}

/** The float value of binary16 bits. */
export function float16Value(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Float32Array -> Uint16Array of binary16 bits. */
export function toFloat16(values) {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float16Bits(values[i]);
  return out;
}

function littleEndianBytes(typed) {
  // Typed arrays use the platform's byte order; ONNX raw_data is little-endian.
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  const probe = new Uint8Array(new Uint16Array([1]).buffer);
  if (probe[0] === 1) return Uint8Array.from(bytes);
  const out = new Uint8Array(bytes.length);
  const w = typed.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += w) for (let j = 0; j < w; j++) out[i + j] = bytes[i + w - 1 - j];
  return out;
}

/**
 * An initializer.
 * @param {string} name
 * @param {number} dataType DataType.FLOAT | DataType.FLOAT16 | DataType.INT64
 * @param {number[]} dims
 * @param {Float32Array|Uint16Array|BigInt64Array} data FLOAT16 data as Uint16Array of bits
 */
export function tensor(name, dataType, dims, data) {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`${name}: ${data.length} values for dims ${dims}`);
  return onnx.TensorProto.create({ name, dataType, dims, rawData: littleEndianBytes(data) });
}

/** A graph input or output: dims are numbers (fixed) or strings (named dynamic dimensions). */
export function valueInfo(name, elemType, dims) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'string'
              ? onnx.TensorShapeProto.Dimension.create({ dimParam: d })
              : onnx.TensorShapeProto.Dimension.create({ dimValue: d }),
          ),
        }),
      }),
    }),
  });
}

function attribute(name, value) {
  if (Number.isInteger(value)) return onnx.AttributeProto.create({ name, type: AttrType.INT, i: value });
  if (typeof value === 'number') return onnx.AttributeProto.create({ name, type: AttrType.FLOAT, f: value });
  if (Array.isArray(value) && value.every(Number.isInteger)) {
    return onnx.AttributeProto.create({ name, type: AttrType.INTS, ints: value });
  }
  throw new Error(`unsupported attribute ${name}`);
}

/**
 * A node.
 * @param {string} opType
 * @param {string[]} inputs
 * @param {string[]} outputs
 * @param {Record<string, number|number[]>} [attrs]
 */
export function node(opType, inputs, outputs, attrs = {}) {
  return onnx.NodeProto.create({
    opType,
    input: inputs,
    output: outputs,
    name: `${opType}_${outputs[0]}`,
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  });
}

/**
 * Serialise a model.
 * @returns {Uint8Array}
 */
export function modelBytes({ name, doc, nodes, inputs, outputs, initializers, metadata = {} }) {
  const graph = onnx.GraphProto.create({
    name,
    node: nodes,
    initializer: initializers,
    input: inputs,
    output: outputs,
    docString: doc,
  });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
    producerName: 'nlp-gateway models/scripts',
    producerVersion: '1.0.0',
    modelVersion: 1,
    docString: doc,
    graph,
    metadataProps: Object.entries(metadata).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}
