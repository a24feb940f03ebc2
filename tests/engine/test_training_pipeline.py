"""The training pipeline end to end on the real recording: reproducibility, export, ONNX, refusal."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors

from ruview_core.cli import main
from ruview_core.training.contrastive import evaluate_contrastive, train_contrastive
from ruview_core.training.dataset import load_recordings
from ruview_core.training.encoder import ENCODER_KEYS, init_encoder, input_standardisation
from ruview_core.training.ewc import register_task
from ruview_core.training.export import ArtifactError, load_model, read_verified, sha256_bytes, write_manifest
from ruview_core.training.heads import init_heads
from ruview_core.training.lora import train_lora
from ruview_core.training.onnx_graph import onnx_session
from ruview_core.training.pipeline import TrainingConfig, task_gradients, train
from ruview_core.training.triplets import Triplets
from ruview_core.training.weak_labels import unknown_labels

FAST = TrainingConfig(
    seed=3, epochs=2, head_epochs=6, lora_epochs=1, fisher_batches=8, measure_forgetting=False
)


@pytest.fixture(scope="module")
def pretrain_set():
    from .conftest import PRETRAIN, require

    return load_recordings([require(PRETRAIN)])


@pytest.fixture(scope="module")
def model_dir(pretrain_set, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    result = train(pretrain_set, out, FAST)
    return out, result


def all_arrays(model) -> dict[str, np.ndarray]:
    arrays = {**model.params, **{f"head.{k}": v for k, v in model.heads.items()}}
    for node, adapter in model.adapters.items():
        arrays.update({f"lora{node}.{k}": v for k, v in adapter.tensors.items()})
    return arrays


def test_seeded_run_is_bit_for_bit_reproducible(pretrain_set, model_dir):
    _, first = model_dir
    again = train(pretrain_set, None, FAST).model
    a, b = all_arrays(first.model), all_arrays(again)
    assert a.keys() == b.keys() and len(a) > 10
    assert all(np.array_equal(a[k], b[k]) for k in a)
    other = train(pretrain_set, None, dataclasses.replace(FAST, seed=4)).model
    assert not np.array_equal(other.params["w1"], a["w1"])


def test_pipeline_learns_and_reports(model_dir, pretrain_set):
    out, result = model_dir
    metrics = json.loads((out / "training-metrics.json").read_text())
    timings = metrics["timings_s"]
    assert {"triplets", "contrastive", "heads", "ewc", "lora", "quantize", "export", "total"} <= set(timings)
    assert all(math.isfinite(v) and v >= 0 for v in timings.values())
    assert metrics["frames"] == len(pretrain_set) == 5309 and metrics["nodes"] == [1, 2]
    losses = metrics["contrastive"]["loss"]
    assert len(losses) == FAST.epochs and losses[-1] < losses[0]
    # held-out triplets: training makes the positive nearer more often than a random encoder does
    assert (
        metrics["contrastive"]["validation_after"]["loss"]
        < metrics["contrastive"]["validation_before"]["loss"]
    )
    for bits in (8, 4, 2):
        q = metrics["quantization"][f"q{bits}"]
        assert q["rmse"] == max(q["per_tensor"].values()) > 0
    q8, q4, q2 = (metrics["quantization"][f"q{b}"]["rmse"] for b in (8, 4, 2))
    assert q8 < q4 < q2
    assert (
        metrics["model_bytes"]["q2"]
        < metrics["model_bytes"]["q4"]
        < metrics["model_bytes"]["q8"]
        < metrics["model_bytes"]["fp32"]
    )
    counts = metrics["triplets"]
    assert counts["positive_cross_node"] > 0 and counts["negative_hard"] > counts["negative_temporal"]
    assert set(metrics["lora"]) == {"node-1", "node-2"} and set(metrics["ewc"]) == {
        "base",
        "node-1",
        "node-2",
    }


def test_export_load_round_trip(model_dir, pretrain_set):
    out, result = model_dir
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    listed = {e["path"] for e in manifest}
    assert {
        "model.safetensors",
        "config.json",
        "training-metrics.json",
        "model.onnx",
        "quantized/model-q2.bin",
        "quantized/model-q4.bin",
        "quantized/model-q8.bin",
        "lora/node-1.safetensors",
        "lora/node-2.safetensors",
    } <= listed
    for entry in manifest:
        assert sha256_bytes((out / entry["path"]).read_bytes()) == entry["sha256"]
    loaded = load_model(out)
    expected = all_arrays(result.model.as_float32())
    got = all_arrays(loaded)
    assert expected.keys() == got.keys()
    assert all(np.array_equal(expected[k], got[k]) for k in expected)
    x = pretrain_set.features[:300]
    assert np.allclose(loaded.embed(x, node_id=1), result.model.embed(x, node_id=1), atol=1e-5)
    assert not np.allclose(loaded.embed(x, node_id=1), loaded.embed(x))  # the adapter is applied
    for bits, tolerance in ((8, 0.01), (4, 0.1), (2, 0.5)):
        restored = load_model(out, bits=bits).embed(x)
        assert np.sqrt(np.mean((restored - loaded.embed(x)) ** 2)) < tolerance


def test_onnx_matches_numpy(model_dir, pretrain_set):
    out, _ = model_dir
    model = load_model(out)
    session = onnx_session(read_verified(out)["model.onnx"])
    x = np.vstack([pretrain_set.features, np.random.default_rng(0).uniform(0, 1, (200, 8))]).astype(
        np.float32
    )
    names = [o.name for o in session.get_outputs()]
    assert names == ["embedding", "presence", "activity", "vitals"]
    onnx_out = dict(zip(names, session.run(None, {"features": x})))
    numpy_out = model.predict(x)
    for name in names:
        assert onnx_out[name].shape == numpy_out[name].shape
        assert np.max(np.abs(onnx_out[name] - numpy_out[name])) < 1e-5


def copy_model(src: Path, dst: Path) -> Path:
    for path in src.rglob("*"):
        if path.is_file():
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    return dst


def test_corrupted_artifacts_are_refused(model_dir, tmp_path):
    out, _ = model_dir
    broken = copy_model(out, tmp_path / "flip")
    data = bytearray((broken / "model.safetensors").read_bytes())
    data[-5] ^= 0x01
    (broken / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="sha256"):
        load_model(broken)

    quantized = copy_model(out, tmp_path / "q")
    (quantized / "quantized" / "model-q4.bin").write_bytes(
        (quantized / "quantized" / "model-q4.bin").read_bytes()[:-3]
    )
    with pytest.raises(ArtifactError, match="model-q4.bin"):  # any damaged listed file fails the folder
        load_model(quantized)

    # a wrongly shaped tensor with a manifest that matches it: the shape check must catch it
    reshaped = copy_model(out, tmp_path / "shape")
    tensors = load_safetensors((reshaped / "model.safetensors").read_bytes())
    tensors["w2"] = tensors["w2"][:, :100].copy()
    (reshaped / "model.safetensors").write_bytes(save_safetensors(tensors))
    paths = [json.loads(line)["path"] for line in (reshaped / "manifest.jsonl").read_text().splitlines()]
    write_manifest(reshaped, paths)
    with pytest.raises(ArtifactError, match="shape"):
        load_model(reshaped)

    missing = copy_model(out, tmp_path / "missing")
    (missing / "lora" / "node-2.safetensors").unlink()
    with pytest.raises(ArtifactError, match="missing"):
        load_model(missing)

    escape = copy_model(out, tmp_path / "escape")
    with open(escape / "manifest.jsonl", "a") as handle:
        handle.write(json.dumps({"path": "../secret", "sha256": "0" * 64, "bytes": 1}) + "\n")
    with pytest.raises(ArtifactError, match="outside"):
        load_model(escape)


def test_cli_train_and_benchmark(tmp_path, capsys, pretrain_path):
    out = tmp_path / "cli-model"
    assert (
        main(
            [
                "train",
                "--data",
                str(pretrain_path),
                "--output",
                str(out),
                "--epochs",
                "1",
                "--seed",
                "2",
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["frames"] == 5309 and "total" in summary["timings_s"]
    metrics = json.loads((out / "training-metrics.json").read_text())
    assert set(metrics["quantization"]) == {"q8", "q4", "q2"} and "load" in metrics["timings_s"]
    assert (
        main(
            [
                "benchmark-model",
                "--model",
                str(out),
                "--data",
                str(pretrain_path),
                "--samples",
                "300",
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["onnx_max_abs_diff"] < 1e-5 and report["frames"] == 300
    assert set(report["latency_ms_per_frame"]) == {"numpy", "onnxruntime"}
    assert set(report["frames_per_s_batched"]) == {"numpy", "onnxruntime"}
    assert all(math.isfinite(v) for v in [*report["latency_ms_per_frame"].values(), *report["frames_per_s_batched"].values()])
    with pytest.raises(SystemExit):
        main(["benchmark-model", "--model", str(tmp_path / "nothing"), "--data", str(pretrain_path)])


def _clustered(rng, n, centres, dims):
    cluster = rng.integers(len(centres), size=n)
    x = rng.uniform(0, 1, (n, 8))
    x[:, dims] = centres[cluster] + rng.normal(0, 0.03, (n, len(dims)))
    return x, cluster


def _cluster_triplets(rng, cluster, n, offset=0):
    anchor = rng.integers(cluster.size, size=n)
    positive = np.array([rng.choice(np.flatnonzero(cluster == cluster[i])) for i in anchor])
    negative = np.array([rng.choice(np.flatnonzero(cluster != cluster[i])) for i in anchor])
    zero = np.zeros(n, int)
    return Triplets(anchor + offset, positive + offset, negative + offset, zero, zero)


def test_ewc_limits_forgetting_of_the_base_task():
    """Base task: clusters live in features 0-2. The node's data clusters on features 3-5 instead,
    so adapting to it pulls the encoder away from the base task. Stated margin: with EWC
    (lambda 3000) the base task's held-out loss rises at most 70 % as much as without."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(0.2, 0.8, (4, 3))
    base_x, base_cluster = _clustered(rng, 400, centres, [0, 1, 2])
    node_x, node_cluster = _clustered(rng, 400, centres, [3, 4, 5])
    x = np.vstack([base_x, node_x])
    base_train = _cluster_triplets(rng, base_cluster[:300], 640)
    base_val = _cluster_triplets(rng, base_cluster, 320)
    node_train = _cluster_triplets(rng, node_cluster, 640, offset=400)
    params = init_encoder(rng, *input_standardisation(x))
    train_contrastive(params, x, base_train, rng, epochs=6)
    heads, labels = init_heads(rng), unknown_labels(x.shape[0])
    before = evaluate_contrastive(params, x, base_val)["loss"]
    task = register_task(
        "base",
        params,
        task_gradients(params, heads, x, labels, base_train, 32, 32, rng),
        ENCODER_KEYS,
        3000.0,
    )

    def adapted_base_loss(tasks):
        adapter = train_lora(
            params,
            heads,
            x,
            labels,
            node_train,
            9,
            np.random.default_rng(1),
            tasks=tasks,
            epochs=6,
            base_lr=3e-3,
        )
        return evaluate_contrastive(adapter.merged(params), x, base_val)["loss"]

    without = adapted_base_loss([]) - before
    with_ewc = adapted_base_loss([task]) - before
    assert without > 0.2  # the adaptation really does make the encoder forget
    assert with_ewc < 0.7 * without


def test_shipped_backbone_loads_and_matches_numpy():
    from ruview_core.training.backbone import BACKBONE_DIR, load_backbone
    from ruview_core.training.encoder import encode

    backbone = load_backbone()
    manifest = [json.loads(line) for line in (BACKBONE_DIR / "manifest.jsonl").read_text().splitlines()]
    onnx_entry = next(e for e in manifest if e["path"] == "model.onnx")
    assert backbone.rev == onnx_entry["sha256"][:12] == backbone.config["rev"]
    assert sum(e["bytes"] for e in manifest) < 300_000
    x = np.random.default_rng(1).uniform(0, 1, (50, 8)).astype(np.float32)
    z = backbone.embed(x)
    assert z.shape == (50, 128) and np.allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-5)
    assert np.max(np.abs(z - encode(backbone.params, x))) < 1e-5


def test_backbone_with_a_damaged_file_is_refused(tmp_path):
    from ruview_core.training.backbone import BACKBONE_DIR, load_backbone

    folder = copy_model(BACKBONE_DIR, tmp_path / "backbone")
    data = bytearray((folder / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0x40
    (folder / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ArtifactError):
        load_backbone(folder)
