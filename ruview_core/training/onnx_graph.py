"""The encoder and heads as an ONNX graph (built with the ``onnx`` package, run by onnxruntime).

Inputs ``features`` ``[N, 8]`` float32; outputs ``embedding`` ``[N, 128]``, ``presence``
``[N, 1]``, ``activity`` ``[N, 3]``, ``vitals`` ``[N, 2]``, identical in meaning to
:meth:`TrainedModel.predict`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .encoder import NORM_EPS

OPSET = 17
IR_VERSION = 8  # readable by every onnxruntime since 1.10


def build_onnx(
    params: Mapping[str, np.ndarray],
    heads: Mapping[str, np.ndarray] | None = None,
    name: str = "ruview-csi-encoder",
) -> bytes:
    """Serialized ONNX model of the (merged) encoder weights, plus the heads when given."""
    initializers = [
        numpy_helper.from_array(np.asarray(params[k], np.float32), k)
        for k in ("input_mean", "input_scale", "w1", "b1", "w2", "b2")
    ]
    initializers.append(numpy_helper.from_array(np.array([NORM_EPS], np.float32), "norm_eps"))
    initializers.append(numpy_helper.from_array(np.array([1], np.int64), "feature_axis"))
    nodes = [
        helper.make_node("Sub", ["features", "input_mean"], ["centred"]),
        helper.make_node("Div", ["centred", "input_scale"], ["standardised"]),
        helper.make_node("MatMul", ["standardised", "w1"], ["h_mm"]),
        helper.make_node("Add", ["h_mm", "b1"], ["h_pre"]),
        helper.make_node("Relu", ["h_pre"], ["hidden"]),
        helper.make_node("MatMul", ["hidden", "w2"], ["y_mm"]),
        helper.make_node("Add", ["y_mm", "b2"], ["y"]),
        helper.make_node("Mul", ["y", "y"], ["y_sq"]),
        helper.make_node("ReduceSum", ["y_sq", "feature_axis"], ["y_sq_sum"], keepdims=1),
        helper.make_node("Add", ["y_sq_sum", "norm_eps"], ["y_sq_eps"]),
        helper.make_node("Sqrt", ["y_sq_eps"], ["y_norm"]),
        helper.make_node("Div", ["y", "y_norm"], ["embedding"]),
    ]
    n_in = params["w1"].shape[0]
    outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", params["w2"].shape[1]])]
    if heads is not None:
        for head, activation in (("presence", "Sigmoid"), ("activity", "Softmax"), ("vitals", None)):
            w, b = f"{head}.w", f"{head}.b"
            initializers += [
                numpy_helper.from_array(np.asarray(heads[w], np.float32), w),
                numpy_helper.from_array(np.asarray(heads[b], np.float32), b),
            ]
            nodes.append(helper.make_node("MatMul", ["embedding", w], [f"{head}_mm"]))
            linear = head if activation is None else f"{head}_logit"
            nodes.append(helper.make_node("Add", [f"{head}_mm", b], [linear]))
            if activation == "Softmax":
                nodes.append(helper.make_node("Softmax", [linear], [head], axis=1))
            elif activation:
                nodes.append(helper.make_node(activation, [linear], [head]))
            outputs.append(helper.make_tensor_value_info(head, TensorProto.FLOAT, ["N", heads[w].shape[1]]))
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", n_in])],
        outputs,
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="ruview")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()


def onnx_session(model_bytes: bytes, threads: int = 1):
    """An onnxruntime CPU session (single-threaded by default: the model is tiny, and the add-on
    shares its cores with Home Assistant)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
