"""Small helpers shared by the transformer model generators.

GraphBuilder wraps onnx.helper so a generator reads like the forward pass it
builds: every helper adds one standard ONNX node (opset 17) and returns the
name of its output. Also here: running a model with onnxruntime (one thread),
exposing intermediate tensors as extra outputs, and per-channel activation
statistics used to show the outlier channels, weight spectra, and a small
fake-quantized W4A4 study (RTN vs smoothing vs smoothing + low-rank branch)
that shows whether a layer's outliers matter.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
# IR version 8 is what opset 17 was released with; onnx 1.12 (Debian's libonnx,
# which Kiln's frontend links) reads it.
IR_VERSION = 8


class GraphBuilder:
    def __init__(self, name):
        self.name = name
        self.nodes = []
        self.inits = []
        self.inputs = []
        self.outputs = []
        self._n = 0
        self._const_cache = {}

    # -- names, inputs, constants ---------------------------------------
    def fresh(self, hint):
        self._n += 1
        return f"{hint}_{self._n}"

    def input(self, name, elem_type, shape):
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def output(self, name, elem_type, shape):
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, shape))
        return name

    def init(self, name, array):
        """Adds an initializer (weights), stored with the array's dtype."""
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def const(self, value, dtype=np.float32):
        """A small shared constant (scalars, shapes, axes)."""
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._const_cache:
            self._const_cache[key] = self.init(self.fresh("const"), arr)
        return self._const_cache[key]

    def node(self, op, inputs, hint=None, outputs=None, name=None, **attrs):
        if outputs is None:
            outputs = [self.fresh(hint or op.lower())]
        self.nodes.append(helper.make_node(op, inputs, outputs,
                                           name=name or self.fresh(op), **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    # -- op helpers (each one ONNX node) ----------------------------------
    def matmul(self, a, b, hint="matmul", name=None):
        return self.node("MatMul", [a, b], hint, name=name)

    def add(self, a, b, hint="add", name=None):
        return self.node("Add", [a, b], hint, name=name)

    def sub(self, a, b, hint="sub", name=None):
        return self.node("Sub", [a, b], hint, name=name)

    def mul(self, a, b, hint="mul", name=None):
        return self.node("Mul", [a, b], hint, name=name)

    def div(self, a, b, hint="div", name=None):
        return self.node("Div", [a, b], hint, name=name)

    def reshape(self, x, shape, hint="reshape", name=None):
        return self.node("Reshape", [x, self.const(shape, np.int64)], hint, name=name)

    def transpose(self, x, perm, hint="transpose", name=None):
        return self.node("Transpose", [x], hint, name=name, perm=list(perm))

    def unsqueeze(self, x, axes, hint="unsqueeze", name=None):
        return self.node("Unsqueeze", [x, self.const(axes, np.int64)], hint, name=name)

    def reduce_sum(self, x, axes, keepdims, hint="reducesum", name=None):
        return self.node("ReduceSum", [x, self.const(axes, np.int64)], hint, name=name,
                         keepdims=int(keepdims))

    def reduce_mean(self, x, axes, keepdims, hint="reducemean", name=None):
        # ReduceMean takes axes as an attribute until opset 18.
        return self.node("ReduceMean", [x], hint, name=name, axes=list(axes),
                         keepdims=int(keepdims))

    def linear(self, x, w_in_out, b, prefix):
        """x @ W (+ b); W stored [in, out] (the transpose of torch's Linear.weight)."""
        y = self.matmul(x, w_in_out, hint=f"{prefix}.matmul", name=f"{prefix}/MatMul")
        if b is not None:
            y = self.add(y, b, hint=f"{prefix}.out", name=f"{prefix}/Add")
        return y

    # -- finishing ----------------------------------------------------------
    def model(self, doc=""):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs,
                                  initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="kiln-models-transformers",
                              doc_string=doc)
        m.ir_version = IR_VERSION
        return m


def ort_session(model, extra_outputs=()):
    """An onnxruntime session (one thread, no graph rewrites beyond basic), with
    `extra_outputs` (intermediate tensor names) exposed as additional outputs."""
    import onnxruntime as ort

    if extra_outputs:
        m = onnx.ModelProto()
        m.CopyFrom(model)
        have = {o.name for o in m.graph.output}
        for name in extra_outputs:
            if name not in have:
                m.graph.output.append(helper.make_empty_tensor_value_info(name))
        model = m
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])


def channel_stats(x):
    """Per-channel max |x| over all but the last axis, and the outlier ratios:
    max channel / median channel, and the top-4 channels."""
    x = np.abs(np.asarray(x, dtype=np.float64)).reshape(-1, x.shape[-1])
    cmax = x.max(axis=0)
    med = float(np.median(cmax))
    order = np.argsort(-cmax)
    return {
        "channels": x.shape[1],
        "max": float(cmax[order[0]]),
        "median_ch_max": med,
        "ratio": float(cmax[order[0]] / max(med, 1e-30)),
        "top": [(int(c), float(cmax[c] / max(med, 1e-30))) for c in order[:4]],
    }


def format_stats(name, s):
    top = ", ".join(f"ch{c}:{r:.0f}x" for c, r in s["top"])
    return (f"  {name:<34} C={s['channels']:<5} max|x|={s['max']:9.3f} "
            f"median ch max={s['median_ch_max']:7.3f} ratio={s['ratio']:6.1f}x  [{top}]")


def spectrum_stats(w, ranks=(16, 32, 64)):
    """Share of the squared Frobenius norm held by the top-r singular values."""
    s = np.linalg.svd(np.asarray(w, dtype=np.float64), compute_uv=False)
    e = s ** 2
    tot = e.sum()
    return {r: float(e[:r].sum() / tot) for r in ranks}, float(s[0] / np.median(s))


def quant_sym(t, bits, group):
    """Symmetric per-group fake quantization along the last axis."""
    shp = t.shape
    t = t.reshape(-1, shp[-1] // group, group)
    qmax = 2 ** (bits - 1) - 1
    sc = np.abs(t).max(-1, keepdims=True) / qmax
    sc[sc == 0] = 1
    return (np.clip(np.round(t / sc), -qmax - 1, qmax) * sc).reshape(shp)


def sqnr_db(ref, approx):
    return 10 * np.log10((ref ** 2).sum() / max(((ref - approx) ** 2).sum(), 1e-30))


def w4a4_study(X, W, rank=16, group=64, alpha=0.5):
    """Layer-output SQNR (dB) of W4A4 (per-group 64, symmetric, RTN) for: plain,
    after smoothing (alpha), and smoothing + rank-`rank` fp branch (SVDQuant).
    X: [tokens, in], W: [in, out]."""
    X = X.astype(np.float64)
    W = W.astype(np.float64)
    ref = X @ W
    qa = lambda t: quant_sym(t, 4, group)  # noqa: E731  activations: groups along in
    qw = lambda t: quant_sym(t.T, 4, group).T  # noqa: E731  weights: groups along in
    plain = qa(X) @ qw(W)
    s = np.abs(X).max(0) ** alpha / np.maximum(np.abs(W).max(1), 1e-8) ** (1 - alpha)
    s = np.maximum(s, 1e-5)
    Xs, Ws = X / s, W * s[:, None]
    smooth = qa(Xs) @ qw(Ws)
    u, sv, vt = np.linalg.svd(Ws, full_matrices=False)
    L = (u[:, :rank] * sv[:rank]) @ vt[:rank]
    svd = Xs @ L + qa(Xs) @ qw(Ws - L)
    return sqnr_db(ref, plain), sqnr_db(ref, smooth), sqnr_db(ref, svd)
