# SPDX-License-Identifier: Apache-2.0
"""An ONNX graph builder that runs a float64 numpy reference as it goes.

Every builder call emits ONNX nodes and initializers and, at the same time,
evaluates the op on a batch of inputs held by the tensor handle. That lets a
generator:

* give a randomly initialised network *measured* BatchNorm statistics: `bn()`
  sets the running mean and variance to the statistics of its input over the
  batch, the way training would, so activations stay well scaled from the
  first layer to the last (the builder records every activation's spread and
  `check_scales()` refuses a network whose activations explode or vanish);
* scale and centre a classifier (`gemm(logit_std=..., center=True)`) so that
  logits vary between inputs instead of one class winning everywhere;
* cross-check the finished model against onnxruntime (`verify_with_ort()`).

Numbers written into the model that come out of BLAS-backed arithmetic are
rounded with `round_sig` first (see determinism.py); numbers drawn from the
seeded numpy Generator are exact and need no rounding.

Node names are `scope/op` paths (e.g. `block3/expand/conv`), initializers are
`<node>.weight`, `<node>.bias`, `<node>.mean`, ... so the importer's
locations and the compiler's reports read like the architecture.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from . import refops
from .determinism import round_sig

OPSET = 13
# IR version 7 is the one that introduced opset 13 (onnx 1.8); writing the
# oldest IR that can hold the model keeps it readable by older ONNX libraries
# (Debian's libonnx 1.12 among them).
IR_VERSION = 7
BN_EPSILON = 1e-5
# Significant bits kept for values that come from BLAS arithmetic.
STAT_BITS = 16


@dataclass
class T:
    """A tensor of the graph: its ONNX name and its reference batch value."""

    name: str
    value: np.ndarray  # float64, batch first

    @property
    def channels(self) -> int:
        return self.value.shape[1]


@dataclass
class ActStat:
    """Spread of one activation tensor over the reference batch."""

    name: str
    op: str
    shape: tuple
    mean: float
    std: float
    absmax: float


def center_weighted_kernels(rng: np.random.Generator, shape) -> np.ndarray:
    """Returns conv kernels [cout, cin, kh, kw]: a centred Gaussian bump
    (sigma = k/4) with a random signed amplitude per (cout, cin), plus half a
    He-normal draw.

    Trained depthwise filters are mostly smooth, centre-heavy bumps and
    edge detectors; i.i.d. He-normal kernels are high-pass filters instead,
    and a deep stack of them behind BatchNorm amplifies small input
    differences (and quantization noise) layer after layer.
    """
    cout, cin, kh, kw = shape
    yy = (np.arange(kh) - (kh - 1) / 2.0)[:, None]
    xx = (np.arange(kw) - (kw - 1) / 2.0)[None, :]
    sigma = max(kh, kw) / 4.0
    bump = np.exp(-(yy * yy + xx * xx) / (2.0 * sigma * sigma))
    # Rounded so that a last-bit difference in exp() between CPUs cannot
    # change a stored weight (see determinism.py).
    bump = round_sig(bump / np.sqrt((bump * bump).sum()), 20)
    amp = rng.standard_normal((cout, cin, 1, 1)) * np.sqrt(2.0 / cin)
    noise = rng.standard_normal(shape) * np.sqrt(2.0 / (cin * kh * kw))
    return amp * bump + 0.5 * noise


def _pads(mode, size_hw, kernel, stride):
    """Returns (top, left, bottom, right) pads for a padding mode.

    "torch": k//2 on every side (PyTorch's usual padding=k//2).
    "same":  TensorFlow/Keras SAME: output = ceil(in/stride), the odd pixel
             of padding goes to the bottom/right.
    "valid": none.  A 4-tuple is taken as is.
    """
    if isinstance(mode, tuple):
        return mode
    if mode == "valid":
        return (0, 0, 0, 0)
    if mode == "torch":
        return (kernel[0] // 2, kernel[1] // 2, kernel[0] // 2, kernel[1] // 2)
    if mode == "same":
        out = []
        for size, k, s in zip(size_hw, kernel, stride):
            o = -(-size // s)
            total = max((o - 1) * s + k - size, 0)
            out.append((total // 2, total - total // 2))
        return (out[0][0], out[1][0], out[0][1], out[1][1])
    raise ValueError(f"unknown padding mode '{mode}'")


class NetBuilder:
    """Builds one ONNX graph; see the module docstring."""

    def __init__(
        self,
        graph_name: str,
        ref_input: np.ndarray,
        rng: np.random.Generator,
        input_name: str = "input",
        batch_dim="1",
    ):
        self.graph_name = graph_name
        self.rng = rng
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.stats: list[ActStat] = []
        self._names: set[str] = set()
        self._scope: list[str] = []
        self._consts: dict[str, str] = {}
        self.macs = 0  # multiply-accumulates per sample (Conv and Gemm)
        batch = int(batch_dim) if str(batch_dim).isdigit() else batch_dim
        self.input_info = helper.make_tensor_value_info(
            input_name, TensorProto.FLOAT, [batch, *ref_input.shape[1:]]
        )
        self.input = T(input_name, np.asarray(ref_input, dtype=np.float64))
        self.input_name = input_name

    # -- naming ---------------------------------------------------------------

    @contextlib.contextmanager
    def scope(self, name: str):
        """Prefixes the names of the nodes created inside with `name/`."""
        self._scope.append(name)
        try:
            yield
        finally:
            self._scope.pop()

    def _node_name(self, op: str) -> str:
        base = "/".join(self._scope + [op])
        name, i = base, 1
        while name in self._names:
            i += 1
            name = f"{base}_{i}"
        self._names.add(name)
        return name

    def _init(self, name: str, arr: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def _const(self, key: str, value: float) -> str:
        """Returns the name of a shared float32 scalar initializer."""
        if key not in self._consts:
            self._consts[key] = self._init(key, np.array(value, dtype=np.float32))
        return self._consts[key]

    def _emit(self, op, inputs, name, value, attrs=None, record=True):
        node = helper.make_node(op, inputs, [name], name=name, **(attrs or {}))
        self.nodes.append(node)
        if record:
            v = value
            self.stats.append(
                ActStat(
                    name, op, v.shape[1:], float(v.mean()), float(v.std()), float(np.abs(v).max())
                )
            )
        return T(name, value)

    # -- layers ---------------------------------------------------------------

    def conv(
        self,
        x: T,
        cout: int,
        kernel,
        stride=1,
        pads="torch",
        groups: int = 1,
        bias: bool = False,
        weight: np.ndarray | None = None,
        bias_value: np.ndarray | None = None,
        op_name: str = "conv",
        init: str = "he",
    ) -> T:
        """Conv2d with He-normal weights (`init="he"`), centre-weighted ones
        (`init="center"`, see center_weighted_kernels) or the given ones."""
        kernel = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
        stride = (stride, stride) if isinstance(stride, int) else tuple(stride)
        cin = x.channels
        p = _pads(pads, x.value.shape[2:], kernel, stride)
        name = self._node_name(op_name)
        if weight is None:
            shape = (cout, cin // groups, *kernel)
            if init == "center":
                weight = center_weighted_kernels(self.rng, shape)
            else:
                weight = self.rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))
        weight = np.asarray(weight, dtype=np.float32)
        inputs = [x.name, self._init(f"{name}.weight", weight)]
        if bias and bias_value is None:
            bias_value = self.rng.normal(0.0, 0.05, cout)
        if bias_value is not None:
            bias_value = np.asarray(bias_value, dtype=np.float32)
            inputs.append(self._init(f"{name}.bias", bias_value))
        y = refops.conv2d(x.value, weight, bias_value, stride, p, groups)
        self.macs += int(np.prod(y.shape[1:])) * weight.shape[1] * kernel[0] * kernel[1]
        attrs = dict(kernel_shape=list(kernel), strides=list(stride), pads=list(p))
        if groups != 1:
            attrs["group"] = groups
        return self._emit("Conv", inputs, name, y, attrs)

    def dwconv(self, x: T, kernel, stride=1, pads="torch", init="center", **kw) -> T:
        """Depthwise Conv2d (group = channels), centre-weighted by default."""
        return self.conv(
            x,
            x.channels,
            kernel,
            stride,
            pads,
            groups=x.channels,
            op_name="dwconv",
            init=init,
            **kw,
        )

    def bn(
        self,
        x: T,
        gamma_mean: float = 1.0,
        gamma_sigma: float = 0.25,
        beta_mean: float = 0.0,
        beta_sigma: float = 0.2,
        gamma=None,
        beta=None,
        mean=None,
        var=None,
    ) -> T:
        """BatchNormalization; statistics measured on the batch unless given.

        Gamma is log-normal around `gamma_mean` and beta normal, so folding
        the BN into the preceding conv gives per-channel weight scales that
        differ the way trained networks' do. See the module docstring for the
        values the architectures pass.
        """
        c = x.channels
        axes = (0,) + tuple(range(2, x.value.ndim))
        if mean is None:
            mean = round_sig(x.value.mean(axis=axes), STAT_BITS)
        if var is None:
            var = round_sig(np.maximum(x.value.var(axis=axes), 1e-6), STAT_BITS)
        if gamma is None:
            gamma = gamma_mean * np.exp(self.rng.normal(0.0, gamma_sigma, c))
        if beta is None:
            beta = self.rng.normal(beta_mean, beta_sigma, c)
        params = [np.asarray(p, dtype=np.float32) for p in (gamma, beta, mean, var)]
        name = self._node_name("bn")
        inputs = [x.name] + [
            self._init(f"{name}.{k}", p) for k, p in zip(("scale", "bias", "mean", "var"), params)
        ]
        y = refops.batchnorm(x.value, *params, BN_EPSILON)
        return self._emit("BatchNormalization", inputs, name, y, dict(epsilon=BN_EPSILON))

    def relu(self, x: T) -> T:
        return self._emit("Relu", [x.name], self._node_name("relu"), np.maximum(x.value, 0.0))

    def relu6(self, x: T) -> T:
        """ReLU6 as Clip(x, 0, 6) with min/max as inputs (Clip-13)."""
        inputs = [x.name, self._const("clip.min0", 0.0), self._const("clip.max6", 6.0)]
        return self._emit("Clip", inputs, self._node_name("relu6"), np.clip(x.value, 0.0, 6.0))

    def add(self, a: T, b: T) -> T:
        return self._emit("Add", [a.name, b.name], self._node_name("add"), a.value + b.value)

    def maxpool(self, x: T, kernel, stride) -> T:
        k, s = (kernel, kernel), (stride, stride)
        y = refops.pool2d(x.value, "max", k, s)
        attrs = dict(kernel_shape=list(k), strides=list(s))
        return self._emit("MaxPool", [x.name], self._node_name("maxpool"), y, attrs)

    def avgpool(self, x: T, kernel, stride=None) -> T:
        k = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
        s = (
            k
            if stride is None
            else ((stride, stride) if isinstance(stride, int) else tuple(stride))
        )
        y = refops.pool2d(x.value, "avg", k, s)
        attrs = dict(kernel_shape=list(k), strides=list(s))
        return self._emit("AveragePool", [x.name], self._node_name("avgpool"), y, attrs)

    def gap(self, x: T) -> T:
        y = x.value.mean(axis=(2, 3), keepdims=True)
        return self._emit("GlobalAveragePool", [x.name], self._node_name("gap"), y)

    def flatten(self, x: T) -> T:
        y = x.value.reshape(x.value.shape[0], -1)
        return self._emit(
            "Flatten", [x.name], self._node_name("flatten"), y, dict(axis=1), record=False
        )

    def gemm(
        self,
        x: T,
        cout: int,
        center: bool = False,
        logit_std: float | None = None,
        weight: np.ndarray | None = None,
        bias_value: np.ndarray | None = None,
        op_name: str = "fc",
    ) -> T:
        """Fully connected layer: Gemm(x, W, b) with transB=1, W [out, in].

        He-normal weights unless given. For a classifier, `logit_std` scales
        each weight row so that its output has that standard deviation over
        the batch (a trained classifier is confident, not uniform), and
        `center` sets the bias to minus the mean output over the batch so
        that every class wins for some inputs.
        """
        cin = x.value.shape[1]
        name = self._node_name(op_name)
        if weight is None:
            weight = self.rng.standard_normal((cout, cin)) * np.sqrt(2.0 / cin)
            if logit_std is not None:
                z = refops.gemm(x.value, weight, None)
                weight = (
                    weight * round_sig(logit_std / np.maximum(z.std(axis=0), 1e-12), 8)[:, None]
                )
        weight = np.asarray(weight, dtype=np.float32)
        if bias_value is None:
            bias_value = self.rng.normal(0.0, 0.05, cout)
            if center:
                bias_value = bias_value - round_sig(
                    refops.gemm(x.value, weight, None).mean(axis=0), STAT_BITS
                )
        bias_value = np.asarray(bias_value, dtype=np.float32)
        inputs = [
            x.name,
            self._init(f"{name}.weight", weight),
            self._init(f"{name}.bias", bias_value),
        ]
        y = refops.gemm(x.value, weight, bias_value)
        self.macs += cin * cout
        return self._emit("Gemm", inputs, name, y, dict(transB=1))

    def softmax(self, x: T) -> T:
        y = refops.softmax(x.value)
        return self._emit(
            "Softmax", [x.name], self._node_name("softmax"), y, dict(axis=-1), record=False
        )

    def rename_output(self, x: T, name: str) -> T:
        """Renames the tensor produced by the last node to `name`."""
        node = self.nodes[-1]
        if node.output[0] != x.name:
            raise ValueError("rename_output works on the last node's output only")
        node.output[0] = name
        return T(name, x.value)

    # -- finishing ------------------------------------------------------------

    def check_scales(
        self, lo: float = 0.05, hi: float = 20.0, ops=("BatchNormalization", "Add", "Clip", "Relu")
    ):
        """Raises if any recorded activation's std leaves [lo, hi]."""
        bad = [s for s in self.stats if s.op in ops and not (lo <= s.std <= hi)]
        if bad:
            lines = "\n".join(f"  {s.name} ({s.op}): std {s.std:.4g}" for s in bad)
            raise RuntimeError(f"activations out of scale [{lo}, {hi}]:\n{lines}")

    def scale_summary(self) -> str:
        """Returns a one-line summary of the activation spreads."""
        stds = np.array([s.std for s in self.stats if s.op != "Softmax"])
        amax = np.array([s.absmax for s in self.stats])
        return (
            f"{len(self.stats)} activations: std in [{stds.min():.3f}, {stds.max():.3f}], "
            f"median {np.median(stds):.3f}; |x| max {amax.max():.2f}"
        )

    def build(self, outputs: list[T], doc: str) -> onnx.ModelProto:
        """Returns the checked ModelProto with the given graph outputs."""
        d0 = self.input_info.type.tensor_type.shape.dim[0]
        batch = d0.dim_param if d0.dim_param else d0.dim_value
        out_infos = [
            helper.make_tensor_value_info(o.name, TensorProto.FLOAT, [batch, *o.value.shape[1:]])
            for o in outputs
        ]
        graph = helper.make_graph(
            self.nodes, self.graph_name, [self.input_info], out_infos, self.inits
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            ir_version=IR_VERSION,
            producer_name="kiln-models",
            producer_version="1",
            doc_string=doc,
        )
        onnx.checker.check_model(model, full_check=True)
        return model


def param_count(model: onnx.ModelProto) -> int:
    """Returns the number of scalars stored in the model's initializers."""
    return int(sum(np.prod(t.dims) for t in model.graph.initializer))


def run_ort(model: onnx.ModelProto, inputs: np.ndarray, batch_one: bool) -> np.ndarray:
    """Returns onnxruntime's (CPU, one thread) outputs of `model` on `inputs`,
    fed one sample at a time when the model has batch 1."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    x = inputs.astype(np.float32)
    if batch_one:
        return np.concatenate([sess.run(None, {name: x[i : i + 1]})[0] for i in range(len(x))])
    return sess.run(None, {name: x})[0]


def verify_with_ort(
    model: onnx.ModelProto, inputs: np.ndarray, expected: np.ndarray, batch_one: bool
):
    """Returns (onnxruntime outputs, error vs `expected`), the error being the
    largest absolute difference relative to the largest |expected| (float32
    onnxruntime against the float64 reference)."""
    got = run_ort(model, inputs, batch_one)
    err = float(np.abs(got - expected).max() / max(np.abs(expected).max(), 1e-12))
    return got, err
