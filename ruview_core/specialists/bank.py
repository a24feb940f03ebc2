"""The SpecialistBank of one room: seven small specialists, stored and versioned one by one.

``train_bank`` trains the specialists the records allow (presence and motion need only the
baseline; posture needs a static anchor; breathing/heartbeat still anchors; restlessness
``small_move``) and keeps every specialist it was not asked to retrain exactly as it was.
A bank is one ``bank.<sha>.safetensors`` (arrays named ``KIND/PARAM``) + ``bank.json`` (per-specialist
metadata with each array's shape and dtype), written atomically and fully checked on load.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..calibration.baseline import RoomBaseline
from ..calibration.persist import StoredFileError, read_artifact, write_artifact
from ..calibration.records import AnchorFeatures
from . import anomaly, breathing, heartbeat, motion, posture, presence, restlessness
from .base import BACKBONE_REV, Specialist

MODULES = {m.KIND: m for m in (presence, motion, posture, breathing, heartbeat, restlessness, anomaly)}
SPECIALIST_KINDS = tuple(MODULES)


@dataclass(frozen=True)
class SpecialistBank:
    room: str
    baseline_id: str
    specialists: dict[str, Specialist] = field(default_factory=dict)

    def get(self, kind: str) -> Specialist | None:
        return self.specialists.get(kind)

    @property
    def kinds(self) -> list[str]:
        return [k for k in SPECIALIST_KINDS if k in self.specialists]

    def describe(self) -> dict:
        """Per specialist: version, trained_at, hashes and which nodes it covers (for room-status)."""
        return {k: {"version": s.version, "trained_at": s.trained_at, "anchor_set_hash": s.anchor_set_hash,
                    "baseline_id": s.baseline_id, "backbone_rev": s.backbone_rev, "nodes": s.nodes, **s.config}
                for k, s in self.specialists.items()}


def train_bank(room: str, baseline: RoomBaseline, records: Iterable[AnchorFeatures], *,
               kinds: Iterable[str] | None = None, previous: SpecialistBank | None = None,
               trained_at: float | None = None) -> SpecialistBank:
    """Train ``kinds`` (default: all) from ``records``; other specialists of ``previous`` are kept.

    Records taken against another baseline are ignored. A specialist that cannot be trained
    from the records (no posture anchor, say) is left out, or kept from ``previous``.
    """
    kinds = list(SPECIALIST_KINDS if kinds is None else kinds)
    for kind in kinds:
        if kind not in MODULES:
            raise ValueError(f"unknown specialist {kind!r}; specialists are {', '.join(SPECIALIST_KINDS)}")
    records = [r for r in records if r.baseline_id == baseline.baseline_id]
    trained_at = time.time() if trained_at is None else trained_at
    specialists = dict(previous.specialists) if previous is not None else {}
    for kind in kinds:
        specialist = MODULES[kind].train(records, baseline, trained_at)
        if specialist is not None:
            specialists[kind] = specialist
    return SpecialistBank(room, baseline.baseline_id, {k: specialists[k] for k in SPECIALIST_KINDS if k in specialists})


def save_bank(bank: SpecialistBank, stem: str | Path) -> None:
    arrays, meta = {}, {}
    for kind, specialist in bank.specialists.items():
        shapes = {}
        for name, value in specialist.params.items():
            value = np.ascontiguousarray(value)
            arrays[f"{kind}/{name}"] = value
            shapes[name] = {"shape": list(value.shape), "dtype": value.dtype.str}
        meta[kind] = {"version": specialist.version, "trained_at": specialist.trained_at,
                      "anchor_set_hash": specialist.anchor_set_hash, "baseline_id": specialist.baseline_id,
                      "backbone_rev": specialist.backbone_rev, "config": specialist.config, "params": shapes}
    write_artifact(stem, arrays, {"kind": "specialist_bank", "room": bank.room, "baseline_id": bank.baseline_id,
                                  "specialists": meta})


def load_bank(stem: str | Path) -> SpecialistBank:
    """Read a bank back; any truncation, edit or inconsistency raises :class:`StoredFileError`."""
    arrays, meta = read_artifact(stem, "specialist bank")
    try:
        specialists = {}
        declared = set()
        for kind, info in meta["specialists"].items():
            if kind not in MODULES:
                raise StoredFileError(f"specialist bank {stem}: unknown specialist {kind!r}")
            params = {}
            for name, spec in info["params"].items():
                key = f"{kind}/{name}"
                declared.add(key)
                if key not in arrays:
                    raise StoredFileError(f"specialist bank {stem}: {key} is missing")
                value = arrays[key]
                if list(value.shape) != list(spec["shape"]) or value.dtype.str != spec["dtype"]:
                    raise StoredFileError(f"specialist bank {stem}: {key} has shape {value.shape} {value.dtype}, "
                                          f"expected {spec['shape']} {spec['dtype']}")
                params[name] = value
            specialists[kind] = Specialist(kind, int(info["version"]), float(info["trained_at"]),
                                           str(info["anchor_set_hash"]), str(info["baseline_id"]),
                                           str(info.get("backbone_rev", BACKBONE_REV)), params, dict(info["config"]))
        if set(arrays) - declared:
            raise StoredFileError(f"specialist bank {stem}: undeclared arrays {sorted(set(arrays) - declared)}")
        return SpecialistBank(str(meta["room"]), str(meta["baseline_id"]),
                              {k: specialists[k] for k in SPECIALIST_KINDS if k in specialists})
    except StoredFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise StoredFileError(f"specialist bank {stem} is inconsistent ({error!r}); run train-room again") from None


def retrain(bank: SpecialistBank, baseline: RoomBaseline, records: Iterable[AnchorFeatures], kinds: Iterable[str]) -> SpecialistBank:
    """Retrain only ``kinds``; every other specialist stays byte for byte as it was."""
    return train_bank(bank.room, baseline, records, kinds=kinds, previous=bank)


__all__ = ["SPECIALIST_KINDS", "SpecialistBank", "load_bank", "retrain", "save_bank",
           "train_bank"]
