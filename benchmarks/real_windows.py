"""The motion window chosen leave one dataset out (``bench_real.py --choose``'s window part).

The product's window (``MOTION_WINDOW_SECONDS``, at least ``MIN_WINDOW_FRAMES`` frames) and
factor are a pair: a longer window estimates the quiet spread more tightly, so a lower factor
separates the same movement. For each candidate window, every unit of ``real_motion.plan`` is
replayed outside the product (the same cleaning, turbulence and robust dispersion, the quiet
level as the product takes it: the lead-in's median, or :class:`SelfCalibratedLevel`), and the
(window, factor) pair is chosen on all datasets but one, then scored on that one.
"""

from __future__ import annotations

import numpy as np

from ruview_core.dsp.subcarriers import signed_subcarrier_index, usable_subcarriers
from ruview_core.node.cleaning import clean, raw_arrays
from ruview_core.node.motion import UNTRUSTED_SECONDS, SelfCalibratedLevel, turbulence, windowed_dispersion

import real_motion  # noqa: E402  (run as a script from benchmarks/)
from real_corpus import splice  # noqa: E402

# (seconds, at least this many frames); the product's is one of them.
CANDIDATES = ((1.0, 20), (1.0, 40), (1.5, 30), (1.5, 40), (2.0, 40), (2.0, 60), (3.0, 60))
LAYOUT_SECONDS = 10.0


def spliced_arrays(recordings: list) -> tuple[np.ndarray, np.ndarray, list] | None:
    """The recordings back to back (``splice``) as time-ordered arrays and their starts; None if too short."""
    frames, starts = splice(recordings)
    times, csi, _ = raw_arrays(frames)
    if times.size < 20:
        return None
    order = np.argsort(times, kind="stable")
    return times[order], csi[order], starts


def unit_hops(unit: real_motion.Unit) -> dict[tuple[float, int], list[real_motion.Hop]]:
    """Per candidate window, the unit's scored hops with ``motion`` = statistic over quiet level."""
    parts = [unit.lead_in] if unit.lead_in is not None and not unit.own_lead_in else []
    spliced = spliced_arrays(parts + unit.scored)
    if spliced is None:
        return {c: [] for c in CANDIDATES}
    times, csi, starts = spliced
    origin = times[0]
    lead = None
    if unit.mode == "baseline":
        lead = real_motion.OWN_LEAD_IN if unit.own_lead_in else min(unit.lead_in.duration + 0.05, real_motion.MAX_LEAD_IN)
    layout = times <= origin + (lead or LAYOUT_SECONDS)
    usable = usable_subcarriers(np.abs(csi[layout, 0, :]))
    cleaned = clean(times, csi, usable, signed_subcarrier_index(usable.size)[usable])
    series = turbulence(np.abs(cleaned.csi[:, 0, :]))
    ends = origin + np.arange(1.0, times[-1] - origin + 1e-9, 1.0)
    scored = {r.name for r in unit.scored}
    out = {}
    for seconds, min_frames in CANDIDATES:
        statistics = windowed_dispersion(cleaned.times, series, ends, seconds, min_frames)
        ratios = _ratios(statistics, ends - origin, lead)
        hops = []
        for end, ratio in zip(ends, ratios, strict=True):
            owner = real_motion._owner(starts, end - 0.5)
            if owner is None or owner[0].name not in scored or (unit.own_lead_in and end - origin <= lead + 1.0):
                continue
            recording, start = owner
            hops.append(real_motion.Hop(unit.mode, recording.dataset, recording.chip, recording.name, end - origin,
                                        None if not np.isfinite(ratio) else float(ratio), None,
                                        recording.label_at(end - 0.5 - start, "motion")))
        out[(seconds, min_frames)] = hops
    return out


def _ratios(statistics: np.ndarray, t: np.ndarray, lead: float | None) -> np.ndarray:
    trusted = t >= UNTRUSTED_SECONDS
    if lead is not None:
        quiet = statistics[trusted & (t <= lead) & np.isfinite(statistics)]
        return statistics / np.median(quiet) if quiet.size else np.full(t.size, np.nan)
    level = SelfCalibratedLevel()
    out = np.full(t.size, np.nan)
    for i, statistic in enumerate(statistics):
        if trusted[i] and np.isfinite(statistic):
            quiet = level.update(float(statistic))
            if quiet:
                out[i] = statistic / quiet
    return out
