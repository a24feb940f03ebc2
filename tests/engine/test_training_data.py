"""Training data: the shared 8-dim features, triplet mining rules, weak labels and their protocol."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from ruview_core.frames import CsiFrame, FeaturePacket
from ruview_core.sim import SimConfig, simulate
from ruview_core.training.dataset import from_packets, load_recordings
from ruview_core.training.features import FEATURE_DIM, FEATURE_NAMES, features_from_packet, node_features
from ruview_core.training.triplets import mine_triplets, motion_states
from ruview_core.training.weak_labels import (
    EMPTY,
    UNKNOWN,
    CsiLabels,
    LabelSource,
    NodeVitalsLabels,
    WeakLabels,
    combine_labels,
    unknown_labels,
    weak_labels,
)


@pytest.fixture(scope="module")
def pretrain_set():
    from .conftest import PRETRAIN, require

    return load_recordings([require(PRETRAIN)])


def sim_frames(scenario: str, seed: int = 1, duration: float = 20.0, nodes: int = 1) -> list[CsiFrame]:
    return list(simulate(SimConfig(scenario, seed=seed, duration=duration, nodes=nodes)).frames())


def test_features_are_bounded_and_causal():
    frames = sim_frames("walk", duration=24.0)
    full = node_features(frames)
    assert full.features.shape == (len(frames), FEATURE_DIM) == (len(frames), len(FEATURE_NAMES))
    assert full.features.dtype == np.float32
    assert np.all((full.features >= 0) & (full.features <= 1))
    # trailing windows: the features of a frame do not depend on frames after it
    prefix = node_features(frames[: len(frames) * 3 // 4])
    assert np.array_equal(prefix.features, full.features[: prefix.features.shape[0]])


def test_presence_and_motion_features_rise_when_someone_walks():
    walk = node_features(sim_frames("walk", seed=2)).features
    empty = node_features(sim_frames("empty", seed=2)).features
    presence, motion = FEATURE_NAMES.index("presence"), FEATURE_NAMES.index("motion")
    # slow-over-fast variance: about 0.25 (pure noise) empty, well above while walking
    assert np.median(walk[:, presence]) > np.median(empty[:, presence]) + 0.1
    # motion energy is dominated by receiver noise at the default 17 dB, but still rises
    assert np.median(walk[:, motion]) > np.median(empty[:, motion])


def test_firmware_feature_packet_uses_the_same_layout():
    packet = FeaturePacket(1, 5, 0, (0.4, 0.4, 0.7, 0.6, 1.2, 1.0, 0.0, 0.8))
    vector = features_from_packet(packet)
    assert vector.shape == (FEATURE_DIM,) and vector[4] == 1.0 and vector[2] == pytest.approx(0.7)


def test_dataset_from_the_real_recording(pretrain_set):
    data = pretrain_set
    assert len(data) == 5309 and data.nodes == (1, 2)
    assert np.all(np.diff(data.times) >= 0)
    # placeholder frame RSSI (1) is replaced by the vitals packets' real RSSI
    assert np.all(data.features[:, FEATURE_NAMES.index("rssi")] != 0.5)
    assert np.mean(np.isfinite(data.node_vitals[:, 0])) > 0.95
    assert np.isfinite(data.features).all()


def test_dataset_from_simulated_nodes_has_cross_node_rows():
    packets = sim_frames("sit", seed=3, duration=8.0, nodes=2)
    data = from_packets(packets, session=4)
    assert data.nodes == (1, 2) and set(data.sessions.tolist()) == {4}
    assert len(data) == len(packets)


def test_triplet_mining_rules(pretrain_set):
    data = pretrain_set
    triplets = mine_triplets(
        data.times, data.node_ids, data.sessions, data.motion_energy, np.random.default_rng(0)
    )
    a, p, n = triplets.anchor, triplets.positive, triplets.negative
    assert len(triplets) > 0.95 * len(data)
    assert np.all(a != p)
    temporal = triplets.positive_kind == 0
    assert np.all(data.node_ids[a[temporal]] == data.node_ids[p[temporal]])
    assert np.all(np.abs(data.times[a[temporal]] - data.times[p[temporal]]) <= 1.0)
    cross = triplets.positive_kind == 1
    assert cross.any() and np.all(data.node_ids[a[cross]] != data.node_ids[p[cross]])
    assert np.all(np.abs(data.times[a[cross]] - data.times[p[cross]]) <= 0.1)
    far = triplets.negative_kind < 2
    assert np.all(np.abs(data.times[a[far]] - data.times[n[far]]) > 30.0)
    assert np.all(
        data.node_ids[a[triplets.negative_kind == 1]] != data.node_ids[n[triplets.negative_kind == 1]]
    )
    hard = triplets.negative_kind == 2
    assert abs(hard.mean() - 0.7) < 0.05
    # a hard negative sits across a motion transition from its anchor
    states = np.zeros(len(data), np.int8)
    for node in data.nodes:
        rows = np.flatnonzero(data.node_ids == node)
        states[rows] = motion_states(data.times[rows], data.motion_energy[rows])
    assert np.all(states[a[hard]] != states[n[hard]])


def test_motion_states_follow_a_step_with_hysteresis():
    times = np.arange(0, 60, 0.05)
    energy = np.where(times < 30, 0.01, 0.2) * np.exp(np.random.default_rng(0).normal(0, 0.3, times.size))
    states = motion_states(times, energy)
    assert states[times < 28].max() == 0 and states[times > 32].min() == 1
    assert np.count_nonzero(np.diff(states)) == 1


def test_weak_labels_from_the_recording(pretrain_set):
    labels = weak_labels(pretrain_set)
    assert len(labels) == len(pretrain_set)
    known = ~np.isnan(labels.presence)
    assert known.mean() > 0.95
    assert set(np.unique(labels.activity)) <= {UNKNOWN, 0, 1, EMPTY}
    assert np.all((labels.quality >= 0) & (labels.quality <= 1))
    assert np.all(np.isfinite(labels.vitals[labels.quality > 0]))


@dataclass(frozen=True)
class DoorSensor:
    """A stand-in for a later source (e.g. PIR): says the room is empty during the first 10 s."""

    name: str = "door"

    def labels(self, data):
        out = unknown_labels(len(data))
        early = data.times - data.times.min() < 10.0
        return WeakLabels(np.where(early, 0.0, np.nan), out.activity, out.vitals, out.quality)


def test_other_label_sources_plug_in_first(pretrain_set):
    assert isinstance(DoorSensor(), LabelSource) and isinstance(CsiLabels(), LabelSource)
    labels = weak_labels(pretrain_set, [DoorSensor(), NodeVitalsLabels(), CsiLabels()])
    early = pretrain_set.times - pretrain_set.times.min() < 10.0
    assert np.all(labels.presence[early] == 0) and np.all(labels.activity[early] == EMPTY)
    assert np.all(labels.presence[~early & ~np.isnan(labels.presence)] == 1)


def test_combine_labels_prefers_higher_quality_vitals():
    first = WeakLabels(
        np.array([np.nan, 1.0]),
        np.array([UNKNOWN, 0]),
        np.array([[0.5, 0.5], [0.5, 0.5]]),
        np.array([[0.2, 0.9], [0.0, 0.0]]),
    )
    second = WeakLabels(
        np.array([1.0, 0.0]),
        np.array([1, 1]),
        np.array([[0.6, 0.6], [0.7, 0.7]]),
        np.array([[0.8, 0.1], [0.5, 0.5]]),
    )
    merged = combine_labels([first, second])
    assert merged.presence.tolist() == [1.0, 1.0]
    assert merged.activity.tolist() == [1, 0]
    assert merged.vitals.tolist() == [[0.6, 0.5], [0.7, 0.7]]
