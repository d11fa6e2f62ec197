"""Dynamic int8 quantization of an ONNX BERT graph with the onnx Python API (no onnxruntime here).

Scheme (that of onnxruntime.quantization.quantize_dynamic):
  * every MatMul whose second input is a 2-D float initializer W [K, N]:
        x_q, x_scale, x_zp = DynamicQuantizeLinear(x)            # uint8, per tensor, per call
        acc = MatMulInteger(x_q, W_q, x_zp, 0)                   # int32; W_q int8, symmetric
        y   = Cast(acc, float) * (x_scale * w_scale)             # w_scale per output column [N]
    (a zero weight zero-point makes per-column scales exact with a scalar zero-point);
  * every Gemm with a constant B (pooler, classifier) becomes the same pattern + bias Add;
  * the word-embedding Gather (the largest tensor) stores int8 rows with one scale per row:
        y = Cast(Gather(E_q, ids), float) * Unsqueeze(Gather(row_scale, ids), -1)
Activation x activation MatMuls (attention scores) stay float.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _sym_int8(w, axis):
    """Symmetric int8 with one scale per slice along `axis` (kept dim)."""
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.abs(w).max(axis=red)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def quantize(model, min_gather_rows=1000):
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    new_nodes = []
    drop_inits = set()
    add_inits = []
    counter = [0]

    def uname(base):
        counter[0] += 1
        return f"{base}_q{counter[0]}"

    def only_used_by(name, node):
        return all(c is node for c in consumers.get(name, []))

    def qmatmul(x, w, out, bias=None):
        """Emit the quantized pattern computing out = x @ w (+ bias)."""
        wq, ws = _sym_int8(w, axis=1)
        base = uname("W")
        add_inits.append(numpy_helper.from_array(wq, base + "_quantized"))
        add_inits.append(numpy_helper.from_array(ws, base + "_scale"))
        add_inits.append(numpy_helper.from_array(np.array(0, np.int8), base + "_zero_point"))
        xq, xs, xz = uname("x_quantized"), uname("x_scale"), uname("x_zero_point")
        nodes = [
            helper.make_node("DynamicQuantizeLinear", [x], [xq, xs, xz], name=uname("DQL")),
            helper.make_node("MatMulInteger", [xq, base + "_quantized", xz, base + "_zero_point"],
                             [uname("acc")], name=uname("MatMulInteger")),
        ]
        acc = nodes[-1].output[0]
        accf = uname("acc_float")
        sc = uname("scale")
        nodes.append(helper.make_node("Cast", [acc], [accf], to=TensorProto.FLOAT, name=uname("Cast")))
        nodes.append(helper.make_node("Mul", [xs, base + "_scale"], [sc], name=uname("ScaleMul")))
        if bias is None:
            nodes.append(helper.make_node("Mul", [accf, sc], [out], name=uname("Mul")))
        else:
            tmp = uname("mm")
            nodes.append(helper.make_node("Mul", [accf, sc], [tmp], name=uname("Mul")))
            nodes.append(helper.make_node("Add", [tmp, bias], [out], name=uname("BiasAdd")))
        return nodes

    stats = {"MatMul": 0, "Gemm": 0, "Gather": 0}
    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in inits and len(inits[n.input[1]].dims) == 2 \
                and only_used_by(n.input[1], n):
            w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
            new_nodes += qmatmul(n.input[0], w, n.output[0])
            drop_inits.add(n.input[1])
            stats["MatMul"] += 1
        elif n.op_type == "Gemm" and n.input[1] in inits and only_used_by(n.input[1], n):
            a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
            if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                new_nodes.append(n)
                continue
            w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
            if a.get("transB", 0):
                w = w.T
            bias = n.input[2] if len(n.input) > 2 and n.input[2] else None
            new_nodes += qmatmul(n.input[0], np.ascontiguousarray(w), n.output[0], bias)
            drop_inits.add(n.input[1])
            stats["Gemm"] += 1
        elif n.op_type == "Gather" and n.input[0] in inits and only_used_by(n.input[0], n) \
                and len(inits[n.input[0]].dims) == 2 and inits[n.input[0]].dims[0] >= min_gather_rows:
            e = numpy_helper.to_array(inits[n.input[0]]).astype(np.float32)
            eq, es = _sym_int8(e, axis=0)
            base = uname("E")
            add_inits.append(numpy_helper.from_array(eq, base + "_quantized"))
            add_inits.append(numpy_helper.from_array(es, base + "_scale"))
            add_inits.append(numpy_helper.from_array(np.array([-1], np.int64), base + "_axes"))
            rows, rowsf, s, s2 = uname("rows"), uname("rows_float"), uname("row_scale"), uname("row_scale_u")
            new_nodes += [
                helper.make_node("Gather", [base + "_quantized", n.input[1]], [rows], name=uname("Gather")),
                helper.make_node("Cast", [rows], [rowsf], to=TensorProto.FLOAT, name=uname("Cast")),
                helper.make_node("Gather", [base + "_scale", n.input[1]], [s], name=uname("GatherScale")),
                helper.make_node("Unsqueeze", [s, base + "_axes"], [s2], name=uname("Unsqueeze")),
                helper.make_node("Mul", [rowsf, s2], [n.output[0]], name=uname("Dequantize")),
            ]
            drop_inits.add(n.input[0])
            stats["Gather"] += 1
        else:
            new_nodes.append(n)
    keep = [i for i in g.initializer if i.name not in drop_inits]
    del g.initializer[:]
    g.initializer.extend(keep + add_inits)
    del g.node[:]
    g.node.extend(new_nodes)
    onnx.checker.check_model(model)
    return model, stats


if __name__ == "__main__":
    import sys
    m, st = quantize(onnx.load(sys.argv[1]))
    onnx.save(m, sys.argv[2])
    print(st)
