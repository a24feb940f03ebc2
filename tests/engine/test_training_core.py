"""Training maths: exact gradients vs finite differences, optimiser, quantization, file format."""

from __future__ import annotations

import numpy as np
import pytest

from ruview_core.training.encoder import ENCODER_KEYS, encoder_backward, encoder_forward, init_encoder
from ruview_core.training.ewc import ewc_penalty, register_task
from ruview_core.training.heads import HEAD_KEYS, heads_loss, init_heads
from ruview_core.training.lora import LoraConfig, init_lora, lora_batch
from ruview_core.training.losses import contrastive_loss, info_nce, triplet_loss
from ruview_core.training.optim import Adam, EarlyStopping, cosine_lr
from ruview_core.training.quantize import (
    QuantizedFileError,
    decode_quantized,
    dequantize,
    encode_quantized,
    pack_codes,
    quantize,
    quantize_auto,
    raw_tensor,
    rmse,
    unpack_codes,
)
from ruview_core.training.triplets import Triplets
from ruview_core.training.weak_labels import WeakLabels

EPS = 1e-6


def numeric_gradient(loss, array: np.ndarray) -> np.ndarray:
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + EPS
        plus = loss()
        array[index] = saved - EPS
        minus = loss()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * EPS)
    return grad


def assert_close(analytic: np.ndarray, numeric: np.ndarray, tol: float = 1e-6) -> None:
    scale = max(np.max(np.abs(numeric)), 1e-8)
    assert np.max(np.abs(analytic - numeric)) / scale < tol


def unit_rows(rng, n, d=16):
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def small_encoder(rng):
    params = init_encoder(rng, rng.normal(0, 0.1, 8), rng.uniform(0.5, 1.5, 8), hidden_dim=12, embed_dim=10)
    params["b1"] = rng.normal(0, 0.3, 12)  # keep ReLUs away from their kink for finite differences
    return params


def test_encoder_gradients_match_finite_differences_including_lora():
    rng = np.random.default_rng(1)
    params = small_encoder(rng)
    lora = {
        "w1.lora_a": rng.normal(0, 0.3, (8, 3)),
        "w1.lora_b": rng.normal(0, 0.3, (3, 12)),
        "w2.lora_a": rng.normal(0, 0.3, (12, 3)),
        "w2.lora_b": rng.normal(0, 0.3, (3, 10)),
    }
    x = rng.uniform(0, 1, (5, 8))
    weight = rng.normal(size=(5, 10))

    def loss():
        return float(np.sum(weight * encoder_forward(params, x, lora, 2.0)[0]))

    z, cache = encoder_forward(params, x, lora, 2.0)
    assert np.allclose(np.linalg.norm(z, axis=1), 1.0)
    grads = encoder_backward(params, cache, weight, lora)
    for key in ENCODER_KEYS:
        assert_close(grads[key], numeric_gradient(loss, params[key]))
    for key in lora:
        assert_close(grads[key], numeric_gradient(loss, lora[key]))
    assert_close(grads["input"], numeric_gradient(loss, x))


def test_lora_dropout_gradient_uses_the_same_mask():
    rng = np.random.default_rng(2)
    params = small_encoder(rng)
    lora = {"w1.lora_a": rng.normal(0, 0.3, (8, 2)), "w1.lora_b": rng.normal(0, 0.3, (2, 12))}
    x = rng.uniform(0, 1, (6, 8))
    weight = rng.normal(size=(6, 10))

    def loss():
        return float(np.sum(weight * encoder_forward(params, x, lora, 2.0, 0.5, np.random.default_rng(7))[0]))

    _, cache = encoder_forward(params, x, lora, 2.0, 0.5, np.random.default_rng(7))
    grads = encoder_backward(params, cache, weight, lora)
    assert cache.lora_masks["w1"] is not None and (cache.lora_masks["w1"] == 0).any()
    for key in ("w1.lora_a", "w1.lora_b", "w1"):
        store = lora if key in lora else params
        assert_close(grads[key], numeric_gradient(loss, store[key]))


@pytest.mark.parametrize("temperature", [0.07, 0.5])
def test_contrastive_loss_gradients(temperature):
    rng = np.random.default_rng(3)
    a, p, n = unit_rows(rng, 6), unit_rows(rng, 6), unit_rows(rng, 6)
    _, _, (da, dp, dn) = contrastive_loss(a, p, n, margin=0.3, temperature=temperature)
    for array, analytic in ((a, da), (p, dp), (n, dn)):
        assert_close(
            analytic, numeric_gradient(lambda: contrastive_loss(a, p, n, 0.3, temperature)[0], array)
        )
    hinge = np.sum((a - p) ** 2, 1) - np.sum((a - n) ** 2, 1) + 0.3
    assert (hinge > 0).any() and (hinge < 0).any()  # both sides of the hinge are exercised
    assert triplet_loss(a, p, n)[0] == pytest.approx(np.mean(np.maximum(hinge, 0)))


def test_info_nce_prefers_matching_pairs():
    rng = np.random.default_rng(4)
    a = unit_rows(rng, 8)
    matched = info_nce(a, a)[0]
    shuffled = info_nce(a, a[::-1])[0]
    assert matched < np.log(8) < shuffled


def test_heads_loss_gradients_with_unknown_labels():
    rng = np.random.default_rng(5)
    heads = init_heads(rng, 10)
    z = unit_rows(rng, 7, 10)
    labels = WeakLabels(
        np.array([1, 0, np.nan, 1, 0, 1, np.nan]),
        np.array([0, 1, 2, -1, 2, 1, 0]),
        rng.uniform(0, 1, (7, 2)),
        rng.uniform(0, 1, (7, 2)) * (rng.random((7, 2)) > 0.3),
    )
    labels.vitals[labels.quality == 0] = np.nan  # unknown targets are NaN and must not leak in
    _, parts, grads, dz = heads_loss(heads, z, labels)
    assert all(np.isfinite(v) for v in parts.values())
    for key in HEAD_KEYS:
        assert_close(grads[key], numeric_gradient(lambda: heads_loss(heads, z, labels)[0], heads[key]))
    assert_close(dz, numeric_gradient(lambda: heads_loss(heads, z, labels)[0], z))


def test_ewc_penalty_and_lora_chain_rule():
    rng = np.random.default_rng(6)
    params = small_encoder(rng)
    task = register_task(
        "base",
        params,
        [{k: rng.normal(size=params[k].shape) for k in ENCODER_KEYS} for _ in range(3)],
        ENCODER_KEYS,
        3000.0,
    )
    assert ewc_penalty(params, [task])[0] == 0.0
    moved = {k: v + rng.normal(0, 0.01, v.shape) for k, v in params.items()}
    value, grads = ewc_penalty(moved, [task])
    assert value > 0
    assert_close(grads["w2"], numeric_gradient(lambda: ewc_penalty(moved, [task])[0], moved["w2"]))

    adapter = init_lora(params, 1, LoraConfig(rank=2, dropout=0.0), rng)
    for t in adapter.tensors.values():
        t += rng.normal(0, 0.2, t.shape)
    heads = init_heads(rng, 10)
    features = rng.uniform(0, 1, (9, 8))
    batch = Triplets(np.arange(3), np.arange(3, 6), np.arange(6, 9), np.zeros(3, int), np.zeros(3, int))
    labels = WeakLabels(
        np.array([1.0, 0, 1] * 3), np.array([0, 1, 2] * 3), np.full((9, 2), 0.5), np.ones((9, 2))
    )

    def loss():
        return lora_batch(params, heads, features, labels, batch, adapter, [task])[0]

    grads = lora_batch(params, heads, features, labels, batch, adapter, [task])[1]
    for key, tensor in adapter.tensors.items():
        assert_close(grads[key], numeric_gradient(loss, tensor), tol=1e-5)


def test_fresh_lora_adapter_changes_nothing():
    rng = np.random.default_rng(7)
    params = small_encoder(rng)
    adapter = init_lora(params, 3, LoraConfig(), rng)
    assert adapter.n_parameters == 4 * (8 + 12) + 4 * (12 + 10)
    merged = adapter.merged(params)
    assert all(np.array_equal(merged[k], params[k]) for k in ENCODER_KEYS)


def test_adam_minimises_a_quadratic_and_schedule_and_stopping():
    params = {"x": np.array([3.0, -2.0])}
    adam = Adam(params, ["x"], lr=0.1)
    for step in range(500):
        adam.step(params, {"x": 2 * params["x"]}, cosine_lr(step, 500, 0.1))
    assert np.all(np.abs(params["x"]) < 1e-2)
    assert cosine_lr(0, 10, 1.0) == 1.0 and cosine_lr(10, 10, 1.0) == pytest.approx(0.0)
    assert cosine_lr(5, 10, 1.0) == pytest.approx(0.5)
    stopper = EarlyStopping(patience=2)
    assert [stopper.update(v, i) for i, v in enumerate([3.0, 2.0, 2.5, 2.1])] == [True, True, False, False]
    assert stopper.should_stop and stopper.best_epoch == 1


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_bit_packing_is_dense_and_lossless(bits):
    rng = np.random.default_rng(bits)
    codes = rng.integers(0, 1 << bits, 1001).astype(np.uint8)
    packed = pack_codes(codes, bits)
    assert len(packed) == -(-1001 * bits // 8)
    assert np.array_equal(unpack_codes(packed, bits, 1001), codes)
    if bits == 4:
        assert pack_codes(np.array([1, 2]), 4) == bytes([0x21])
    if bits == 2:
        assert pack_codes(np.array([1, 2, 3, 0]), 2) == bytes([0b00111001])


@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize("axis", [None, 1])
def test_quantize_error_bounds(bits, axis):
    rng = np.random.default_rng(11)
    x = (rng.normal(0, 0.2, (16, 24)) * rng.uniform(0.2, 2.0, 24)).astype(np.float32)
    q = quantize(x, bits, axis)
    restored = dequantize(q)
    step = q.scale if axis is None else q.scale[None, :]
    # min/max range: every value lies inside, so rounding is the only error (half a step)
    assert np.all(np.abs(restored - x) <= step / 2 + 1e-6)
    assert rmse(restored, x) <= np.max(step) / np.sqrt(12) * 1.5
    clipped = dequantize(quantize(x, bits, axis, clip="mse"))
    assert rmse(clipped, x) <= rmse(restored, x) + 1e-9
    assert np.all(dequantize(quantize(np.zeros((3, 4)), bits)) == 0)


def test_per_channel_helps_when_channels_differ_in_scale():
    rng = np.random.default_rng(12)
    x = (rng.normal(0, 1, (32, 16)) * np.geomspace(0.01, 1.0, 16)).astype(np.float32)
    per_tensor = rmse(dequantize(quantize(x, 4)), x)
    per_channel = rmse(dequantize(quantize(x, 4, axis=1)), x)
    assert per_channel < 0.7 * per_tensor
    _, method = quantize_auto(x, 4, target=per_tensor / 2)
    assert method != "per_tensor"


def test_quantized_file_round_trip_and_refusals():
    rng = np.random.default_rng(13)
    tensors = {
        "w": quantize(rng.normal(size=(5, 7)), 2, axis=1),
        "b": quantize(rng.normal(size=7), 4),
        "mean": raw_tensor(rng.normal(size=3)),
    }
    blob = encode_quantized(tensors)
    back = decode_quantized(blob)
    for name, q in tensors.items():
        assert np.array_equal(dequantize(back[name]), dequantize(q)) and back[name].shape == q.shape
    with pytest.raises(QuantizedFileError):
        decode_quantized(b"XXXX" + blob[4:])
    with pytest.raises(QuantizedFileError):
        decode_quantized(blob[:-1])
    with pytest.raises(QuantizedFileError):
        decode_quantized(blob + b"\0")
