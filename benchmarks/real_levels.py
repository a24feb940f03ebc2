"""The self-calibrated quiet level chosen leave one dataset out (``bench_real.py --choose``'s level part).

With no baseline the quiet level is a low quantile of the recent window statistics
(:class:`SelfCalibratedLevel`): how low a quantile, over how much memory and after how many hops
it is trusted decide together with the factor what a stream that moves most of the time, or whose
quiet level drifts, is judged against. Every self-calibrated unit of ``real_motion.plan`` is
replayed outside the product at the product's window (the same cleaning, turbulence and robust
dispersion as ``real_windows.py``), once per candidate level, and the (level, factor) pair is
chosen on all datasets but one, then scored on that one.
"""

from __future__ import annotations

import numpy as np

from ruview_core.dsp.subcarriers import signed_subcarrier_index, usable_subcarriers
from ruview_core.node.cleaning import clean
from ruview_core.node.motion import (
    MIN_WINDOW_FRAMES, MOTION_WINDOW_SECONDS, UNTRUSTED_SECONDS, SelfCalibratedLevel, turbulence, windowed_dispersion,
)

import real_motion  # noqa: E402  (run as a script from benchmarks/)
from real_windows import LAYOUT_SECONDS, spliced_arrays  # noqa: E402

# (memory hops, quantile, warmup hops); the product's is one of them.
CANDIDATES = tuple((memory, quantile, warmup) for memory in (60, 120, 300, 600, 1800)
                   for quantile in (0.05, 0.1, 0.2, 0.3) for warmup in (5, 10))


def unit_hops(unit: real_motion.Unit) -> dict[tuple[int, float, int], list[real_motion.Hop]]:
    """Per candidate level, a self-calibrated unit's scored hops (``motion`` = statistic over level)."""
    if unit.mode != "self":
        return {c: [] for c in CANDIDATES}
    spliced = spliced_arrays(unit.scored)
    if spliced is None:
        return {c: [] for c in CANDIDATES}
    times, csi, starts = spliced
    origin = times[0]
    usable = usable_subcarriers(np.abs(csi[times <= origin + LAYOUT_SECONDS, 0, :]))
    cleaned = clean(times, csi, usable, signed_subcarrier_index(usable.size)[usable])
    series = turbulence(np.abs(cleaned.csi[:, 0, :]))
    ends = origin + np.arange(1.0, times[-1] - origin + 1e-9, 1.0)
    statistics = windowed_dispersion(cleaned.times, series, ends, MOTION_WINDOW_SECONDS, MIN_WINDOW_FRAMES)
    trusted = (ends - origin >= UNTRUSTED_SECONDS) & np.isfinite(statistics)
    owners = [real_motion._owner(starts, end - 0.5) for end in ends]
    out = {}
    for memory, quantile, warmup in CANDIDATES:
        level = SelfCalibratedLevel(memory=memory, quantile=quantile, warmup=warmup)
        hops = []
        for end, statistic, ok, owner in zip(ends, statistics, trusted, owners, strict=True):
            quiet = level.update(float(statistic)) if ok else None
            if owner is None:
                continue
            recording, start = owner
            ratio = float(statistic / quiet) if quiet else None
            hops.append(real_motion.Hop("self", recording.dataset, recording.chip, recording.name, end - origin,
                                        ratio, None, recording.label_at(end - 0.5 - start, "motion")))
        out[(memory, quantile, warmup)] = hops
    return out
